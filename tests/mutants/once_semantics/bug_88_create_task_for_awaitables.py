"""Bug: awaits the handler's awaitable through asyncio.create_task, which only takes coroutines, so a returned Task, Future or object with __await__ fails with TypeError instead of being awaited.

Breaks: rule 9, "whatever the handler returns that is awaitable (inspect.isawaitable) is awaited: ... an asyncio.Task or Future, an object of a class with __await__".
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _run(awaitable: Any) -> Any:
    # run the handler's work as a task of its own, then wait for it
    return await asyncio.create_task(awaitable)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            once(bus, event, fn, priority=priority)
            return fn
        return decorator

    remaining = 1

    def listener(*args: Any, **kwargs: Any) -> Any:
        nonlocal remaining
        if remaining <= 0:
            return None
        remaining -= 1
        bus.off(event, listener)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return _run(result)
        return None

    functools.update_wrapper(listener, handler)
    bus.on(event, listener, priority=priority)
    return handler
