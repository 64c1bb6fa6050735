"""Exercise 2: once_semantics. The fired flag is raised only after the handler returned.

BUG (planted): "A handler that raises counts as fired (it never runs again)". The wrapper
takes itself off the bus first, then calls the handler, and marks itself fired on the
line after the call. A handler that raises skips that line: an emit that already holds
the wrapper in its snapshot (the outer emit around a re-entrant one, or a concurrent
emit) calls it again, and the raising handler runs a second time.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _settle(awaitable: Any) -> None:
    await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # checks the name and the priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    if not callable(handler):
        raise TypeError(f"once needs a callable handler, not {handler!r}")

    fired = False

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        bus.off(event, wrapper)  # first, before the handler can emit anything
        result = handler(*args, **kwargs)
        fired = True  # it ran: emits that still list the wrapper skip it
        if inspect.isawaitable(result):
            return _settle(result)
        return None

    wrapper.__wrapped__ = handler
    bus.on(event, wrapper, priority=priority)
    return handler
