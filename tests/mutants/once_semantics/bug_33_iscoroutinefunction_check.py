"""Bug: decides whether to await by inspect.iscoroutinefunction(handler) instead of looking at what the call returned, so an object with an async __call__, or a plain function returning a coroutine or a Task, is never awaited.

Breaks rule 9: "whatever the handler returns that is awaitable is awaited: an `async def`, an object whose `__call__` is `async def`, a plain function that returns a coroutine or an `asyncio.Task`."
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
        def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)
        return deco

    fired = False

    if inspect.iscoroutinefunction(handler):
        @functools.wraps(handler)
        async def wrapper(*args: Any, **kwargs: Any) -> None:
            nonlocal fired
            if fired:
                return
            fired = True
            bus.off(event, wrapper)
            await handler(*args, **kwargs)
    else:
        @functools.wraps(handler)
        def wrapper(*args: Any, **kwargs: Any) -> None:
            nonlocal fired
            if fired:
                return
            fired = True
            bus.off(event, wrapper)
            handler(*args, **kwargs)

    bus.on(event, wrapper, priority=priority)
    return handler
