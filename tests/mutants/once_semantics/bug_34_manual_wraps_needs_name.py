"""Bug: copies the handler's metadata by hand (__name__, __qualname__, __doc__, __wrapped__) instead of functools.wraps, so a callable object without a __name__ raises AttributeError inside once.

Breaks rule 9: "Sync and async handlers both work; whatever the handler returns that is awaitable is awaited: an `async def`, an object whose `__call__` is `async def`, a plain function that returns a coroutine or an `asyncio.Task`."
"""

from __future__ import annotations

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

    calls = 0

    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls > 1:
            return
        bus.off(event, wrapper)
        value = handler(*args, **kwargs)
        if inspect.isawaitable(value):
            await value

    # look like the handler, so that bus.off(event, handler) finds us
    wrapper.__name__ = handler.__name__
    wrapper.__qualname__ = handler.__qualname__
    wrapper.__doc__ = handler.__doc__
    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]

    bus.on(event, wrapper, priority=priority)
    return handler
