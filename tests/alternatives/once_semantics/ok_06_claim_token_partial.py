"""Style: an async closure that claims a one-shot token from a list, and functools.partial for the decorator form.

Correct because each registration owns a list holding one token; the wrapper
pops it before doing anything else (no await in between), so only the first call
of this wrapper, from whichever emit reaches it first, gets the token: re-entrant
and concurrent emits that still hold the wrapper in their snapshot find the list
empty and return. The wrapper removes only itself (bus.off(event, wrapper))
before calling the handler, so nothing of it is left and a permanent bus.on of
the same handler stays. functools.wraps sets __wrapped__ before bus.on, so
bus.off(event, handler) (or an equal handler) cancels it. The handler gets the
emit's arguments unchanged, its awaitable result is awaited, its exception
propagates untouched, priority goes to bus.on unchanged, and the handler itself
is returned.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _register(bus: EventBus, event: str, priority: Any, handler: Callable[..., Any]) -> Callable[..., Any]:
    token = [True]

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if not token:
            return
        token.pop()
        bus.off(event, wrapper)
        outcome = handler(*args, **kwargs)
        if inspect.isawaitable(outcome):
            await outcome

    bus.on(event, wrapper, priority=priority)
    return handler


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    register = functools.partial(_register, bus, event, priority)
    if handler is None:
        return register
    return register(handler)
