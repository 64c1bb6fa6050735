"""BUG (rule 9, Sync and async handlers): "whatever the handler returns that is awaitable
(`inspect.isawaitable`) is awaited: ... an `asyncio.Task` or `Future` (one already done too:
its exception is the handler's error), an object of a class with `__await__`, or a
generator-based coroutine". Only `asyncio.iscoroutine(result)` results are awaited, so a
returned Future/Task/__await__ object is dropped (a done Future's exception is lost; a
pending Task is not waited for).
"""

from __future__ import annotations

import functools
import asyncio
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
        if asyncio.iscoroutine(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
