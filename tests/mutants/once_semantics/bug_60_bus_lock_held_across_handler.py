"""Bug: one asyncio.Lock per bus guards every once-listener and is held while the handler runs, so a once-handler that emits again deadlocks on another once-listener.

Breaks: "if a listener (or the handler itself) emits `event` again while the first emit is running, the handler still runs only once" (the emits must complete; here they hang).
"""

from __future__ import annotations

import asyncio
import inspect
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_locks: weakref.WeakKeyDictionary[EventBus, asyncio.Lock] = weakref.WeakKeyDictionary()


def _lock_for(bus: EventBus) -> asyncio.Lock:
    lock = _locks.get(bus)
    if lock is None:
        lock = _locks[bus] = asyncio.Lock()
    return lock


class _OnceListener:
    """The listener the bus holds: fires its handler the first time only."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.handler = handler
        self.__wrapped__ = handler
        self.fired = False

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        # concurrent emits: let only one of them in at a time
        async with _lock_for(self.bus):
            if self.fired:
                return
            self.fired = True
            self.bus.off(self.event, self)
            result = self.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result


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
            once(bus, event, fn, priority=priority)
            return fn

        return decorator
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
