"""Bug: the priority is normalised with EventPriority(priority), so a plain int outside the enum (such as 10) raises ValueError.

Breaks: "A priority is anything `bus.on` takes: an `EventPriority` member or a plain
`int` (`10` runs before `HIGHEST`); pass it on unchanged."
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceRegistration:
    """One pending once-registration: the listener the bus holds."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any],
                 priority: EventPriority) -> None:
        self.bus = bus
        self.event = event
        self.handler = handler
        self.__wrapped__ = handler  # so bus.off(event, handler) finds us
        self.priority = EventPriority(priority)  # validate / normalise the priority
        self.fired = False

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self.fired:
            return
        self.fired = True
        self.bus.off(self.event, self)
        result = self.handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    def register(self) -> None:
        self.bus.on(self.event, self, priority=self.priority)


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
    _OnceRegistration(bus, event, handler, priority).register()
    return handler
