"""Bug: to make sure an IntEnum member of one's own reaches the bus by its value, it turns every ``int`` priority into a plain ``int``, so a ``bool`` (which ``bus.on`` refuses) slips through as 0 or 1.

Breaks: "A priority is anything `bus.on` takes (...) pass it on unchanged. A member of an `IntEnum` of your own (`URGENT = 10`) is an `int`: the bus takes it by its value." ... `bus.on("e", h, priority=True)` raises TypeError, but `once(bus, "e", h, priority=True)` registers `h` at LOW (1) without complaint.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _level(priority: Any) -> Any:
    if isinstance(priority, int) and not isinstance(priority, EventPriority):
        return int(priority)  # an IntEnum of the caller's own: the bus sorts by its value
    return priority


class _OnceListener:
    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.__wrapped__ = handler
        self.spent = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.spent:
            return None
        self.spent = True
        self.bus.off(self.event, self)
        result = self.__wrapped__(*args, **kwargs)
        if inspect.isawaitable(result):
            return self._finish(result)
        return None

    @staticmethod
    async def _finish(result: Any) -> None:
        await result


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    level = _level(priority)
    if handler is None:

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            bus.on(event, _OnceListener(bus, event, fn), priority=level)
            return fn

        return decorator
    bus.on(event, _OnceListener(bus, event, handler), priority=level)
    return handler
