"""Bug: the listener takes itself off with ``bus.off(current_event(), self)``, the name of the event being emitted, which is not the key it was registered under when that key is a wildcard pattern.

Breaks: "**Nothing left behind**: after it fired, the bus holds no listener of yours for `event` (`len(bus.listeners(event))` is back where it was)." ... `once(bus, "ui:*", h)` then `await bus.emit("ui:click")` runs `h` once, but `bus.off("ui:click", listener)` removes nothing, so `len(bus.listeners("ui:*"))` stays 1 forever (a dead listener that every `ui:` emit still calls).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority, current_event


class OnceListener:
    """One registration of ``once``: knows its bus and handler; the bus tells it the event."""

    def __init__(self, bus: EventBus, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._handler = handler
        self._spent = False
        functools.update_wrapper(self, handler)

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if self._spent:
            return None
        self._spent = True
        self._bus.off(current_event(), self)  # the event we are hearing right now
        return self._handler(*args, **kwargs)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return functools.partial(once, bus, event, priority=priority)
    bus.on(event, OnceListener(bus, handler), priority=priority)
    return handler
