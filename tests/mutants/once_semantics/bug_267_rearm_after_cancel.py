"""Exercise 2: once_semantics. A small listener class that puts itself back if it was interrupted.

BUG (planted): "Once called it has run, even if the emit is cancelled while it runs (a
timeout): it does not get another turn." This version treats a ``CancelledError`` raised
while it awaits the handler as "the handler never got to finish": it clears its flag and
registers itself on the bus again, so the next emit runs the handler a second time. A
student adds this to be "robust" to timeouts, thinking a cut-off handler deserves a retry.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OneShot:
    """One registration: forwards its first call to the handler, then goes away."""

    __slots__ = ("__wrapped__", "_bus", "_event", "_priority", "_used")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any],
                 priority: Any) -> None:
        self.__wrapped__ = handler
        self._bus = bus
        self._event = event
        self._priority = priority
        self._used = False

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self._used:
            return
        self._used = True
        self._bus.off(self._event, self)
        try:
            result = self.__wrapped__(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            # interrupted half-way (a timeout): put it back so the next emit can finish it
            self._used = False
            self._bus.on(self._event, self, priority=self._priority)
            raise


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    bus.on(event, priority=priority)  # refuses what bus.on refuses, registers nothing

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        bus.on(event, _OneShot(bus, event, fn, priority), priority=priority)
        return fn

    return register if handler is None else register(handler)
