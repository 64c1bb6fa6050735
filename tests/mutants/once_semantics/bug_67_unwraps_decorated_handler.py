"""Points the wrapper's __wrapped__ at inspect.unwrap(handler), the innermost function, so a handler that is itself a decorated function cannot be cancelled with the handler that was given.

Breaks: "`bus.off(event, handler)` (with the handler you were given, or an equal one ...; not any wrapper of yours) before the event is emitted means it never runs."
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return lambda fn: once(bus, event, fn, priority=priority)

    fired = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    # the "original" handler: look through any decorators to the real function
    wrapper.__wrapped__ = inspect.unwrap(handler)  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)
    return handler
