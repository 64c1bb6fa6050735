"""Bug: a per-bus "a once-handler is running" flag makes any once-listener called meanwhile (a nested emit of another event, or a concurrent emit) step aside and stay armed, so its handler runs on a later emit instead of this one.

Breaks: "Exactly once: `handler` runs on the next emit of `event`, and never again." ... `once(bus, "a", ha)` where `ha` awaits `bus.emit("b", 1)`, and `once(bus, "b", hb)`: `hb` does not run in that "b" emit (the next emit of "b"), but in the one after it.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_busy: weakref.WeakSet[EventBus] = weakref.WeakSet()  # buses running a once-handler now


class _Once:
    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus, self.event, self.handler = bus, event, handler
        self.__wrapped__ = handler
        self.fired = False

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self.fired or self.bus in _busy:
            return  # not now: it stays armed for a later emit
        self.fired = True
        self.bus.off(self.event, self)
        _busy.add(self.bus)
        try:
            result = self.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        finally:
            _busy.discard(self.bus)


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
    bus.on(event, _Once(bus, event, handler), priority=priority)
    return handler
