"""Bug: each registration holds its own asyncio.Lock while the handler runs and only takes itself off the bus afterwards, so a handler that awaits an emit of its own event waits on its own lock forever.

Breaks: "Re-entrant emits: if a listener (or the handler itself) emits `event` again while the first emit is running, the handler still runs only once." ... `async def h(): await bus.emit("e")` given with `once(bus, "e", h)`: the inner emit still holds the wrapper (it is removed in `finally`), calls it, and blocks on the lock the outer call holds; `await bus.emit("e")` never returns.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    """One registration: a lock makes concurrent emits wait for the first to finish."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.handler = handler
        self.__wrapped__ = handler
        self.fired = False
        self.lock = asyncio.Lock()

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        async with self.lock:
            if self.fired:
                return
            self.fired = True
            try:
                result = self.handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
            finally:
                self.bus.off(self.event, self)


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
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
