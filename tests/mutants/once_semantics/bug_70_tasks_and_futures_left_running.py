"""Skips awaiting what the handler returns when it is an asyncio Task or Future (treated as already running by itself), so the emit does not wait for it and its exception never reaches the bus.

Breaks: "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited: an `async def`, ..., an `asyncio.Task` or `Future`, or an object of a class with `__await__`."
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _needs_await(value: Any) -> bool:
    # a Task or Future is already scheduled on the loop: it runs without us
    if isinstance(value, asyncio.Future):
        return False
    return inspect.isawaitable(value)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)
        return decorate

    done = [False]

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if done[0]:
            return
        done[0] = True
        bus.off(event, wrapper)
        value = handler(*args, **kwargs)
        if _needs_await(value):
            await value

    bus.on(event, wrapper, priority=priority)
    return handler
