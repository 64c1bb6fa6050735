"""Exercise 2: once_semantics. What the handler returns is awaited again and again until it is no longer awaitable.

BUG (planted): "It is awaited once: what that gives back is a value, even when it is
awaitable too." To be thorough the wrapper keeps awaiting while the result is still
awaitable, so an async handler that returns an awaitable (a coroutine, a Future, an object
with __await__) has that value awaited too.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _settle(awaitable: Any) -> None:
    """Await what the handler returned, to the end (a coroutine may hand back another)."""
    result = await awaitable
    while inspect.isawaitable(result):
        result = await result


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # checks event and priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = False

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return _settle(result)
        return None

    bus.on(event, wrapper, priority=priority)
    return handler
