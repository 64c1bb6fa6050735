"""Bug: only coroutines and asyncio.Task results are awaited; any other awaitable (a Future, an object with an await method) is dropped.

Breaks: "whatever the handler returns that is awaitable is awaited: an `async def`,
an object whose `__call__` is `async def`, a plain function that returns a
coroutine or an `asyncio.Task`."
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Once:
    def __init__(self, bus: EventBus, event: str, priority: Any) -> None:
        self.bus, self.event, self.priority = bus, event, priority

    def __call__(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        bus, event = self.bus, self.event
        fired = False

        @functools.wraps(handler)
        async def wrapper(*args: Any, **kwargs: Any) -> None:
            nonlocal fired
            if fired:
                return
            fired = True
            bus.off(event, wrapper)
            result = handler(*args, **kwargs)
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Task):
                await result

        bus.on(event, wrapper, priority=self.priority)
        return handler


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    registrar = _Once(bus, event, priority)
    return registrar if handler is None else registrar(handler)
