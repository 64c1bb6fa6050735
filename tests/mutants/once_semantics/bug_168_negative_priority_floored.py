"""Bug: it floors plain int priorities at ``EventPriority.LOWEST`` (0), taking LOWEST for the bottom of the scale, so a negative priority runs tied with LOWEST instead of after it.

Breaks: "A priority is anything `bus.on` takes: an `EventPriority` member, a plain `int` (`10` runs before `HIGHEST`) (...) pass it on unchanged." ... after `once(bus, "e", a, priority=-1)` and `bus.on("e", b, priority=EventPriority.LOWEST)`, an emit calls `a` before `b` (registration order at 0) where `b` should run first.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial
from typing import Any

from day25 import EventBus, EventPriority


def _level(priority: Any) -> Any:
    if isinstance(priority, int) and not isinstance(priority, (bool, EventPriority)):
        return max(priority, EventPriority.LOWEST)  # above HIGHEST is fine; nothing below LOWEST
    return priority


async def _await(result: Any) -> None:
    await result


class _Registration:
    __slots__ = ("__wrapped__", "bus", "event", "live")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus, self.event, self.__wrapped__, self.live = bus, event, handler, True

    def fire(self, *args: Any, **kwargs: Any) -> Any:
        if not self.live:
            return None
        self.live = False
        self.bus.off(self.event, self)
        result = self.__wrapped__(*args, **kwargs)
        return _await(result) if inspect.isawaitable(result) else None

    __call__ = fire


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return partial(_register, bus, event, priority)
    return _register(bus, event, priority, handler)


def _register(bus: EventBus, event: str, priority: Any, handler: Callable[..., Any]) -> Any:
    bus.on(event, _Registration(bus, event, handler), priority=_level(priority))
    return handler
