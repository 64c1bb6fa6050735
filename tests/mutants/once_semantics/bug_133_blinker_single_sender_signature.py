"""Bug: the listener has blinker's receiver signature (one optional positional "sender", the rest keywords), so an emit with two or more positional arguments fails in the call to the listener, before the handler runs, and the registration stays armed.

Breaks: "the handler gets exactly the positional and keyword arguments given to `emit`, however many and whatever their names: `emit("e")` calls `handler()`, `emit("e", 1, 2, k=3)` calls `handler(1, 2, k=3)`" ... `once(bus, "e", h)` then `await bus.emit("e", 1, 2, k=3)`: `h` never runs, the result holds a TypeError about the listener's positional arguments, and `h` then fires on a later `emit("e", 4)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_NO_SENDER: Any = object()


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def connect(fn: Callable[..., Any]) -> Callable[..., Any]:
            once(bus, event, fn, priority=priority)
            return fn

        return connect

    armed = [True]

    def receiver(sender: Any = _NO_SENDER, /, **data: Any) -> Any:
        # a signal carries one sender and keyword data (blinker's send(sender, **kwargs))
        if not armed:
            return None
        armed.clear()
        bus.off(event, receiver)
        if sender is _NO_SENDER:
            return handler(**data)
        return handler(sender, **data)  # the bus awaits it if it is awaitable

    receiver.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, receiver, priority=priority)
    return handler
