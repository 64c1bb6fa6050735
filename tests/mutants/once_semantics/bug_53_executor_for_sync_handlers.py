"""Bug: sync handlers are run in a worker thread (run_in_executor) so they cannot block the loop, which breaks a plain function that returns an asyncio.Task (no event loop in that thread).

Breaks: "**Sync and async handlers** both work; whatever the handler returns that is awaitable
is awaited: an `async def`, an object whose `__call__` is `async def`, a plain function that
returns a coroutine or an `asyncio.Task`."
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _is_async(fn: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(type(fn), "__call__", None)
    return not inspect.isroutine(fn) and inspect.iscoroutinefunction(call)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = False
    run_async = _is_async(handler)

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        if run_async:
            await handler(*args, **kwargs)
            return
        # a sync handler must not block the event loop: run it in a worker thread
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(None, functools.partial(handler, *args, **kwargs))
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
