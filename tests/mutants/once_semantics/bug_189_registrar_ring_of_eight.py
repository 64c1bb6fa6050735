"""Bug: the decorator keeps the tickets of its registrations in a ring of 8 slots, so its 9th use overwrites the ticket of its 1st, and that first registration never fires (and stays on the bus).

Breaks: "The decorator may be used more than once (`register = once(bus, "e")`, then `register(f)` and `register(g)`, or `register(f)` again): each use is a registration of its own, as a call is." ... `register = once(bus, "e")` used on nine functions `f0`..`f8`, then `await bus.emit("e")`: `f1`..`f8` run but `f0` does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Registrar:
    """What ``once(bus, event)`` returns: each use registers one once-listener."""

    RING = 8  # a decorator is rarely reused more than a few times

    def __init__(self, bus: EventBus, event: str, priority: Any) -> None:
        bus.on(event, priority=priority)  # bus.on's TypeError / ValueError, nothing registered
        self.bus = bus
        self.event = event
        self.priority = priority
        self.tickets: list[object | None] = [None] * self.RING
        self.uses = 0

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        slot = self.uses % self.RING
        self.uses += 1
        ticket = object()
        tickets, bus, event = self.tickets, self.bus, self.event

        def listener(*args: Any, **kwargs: Any) -> Any:
            if tickets[slot] is not ticket:
                return None
            tickets[slot] = None
            bus.off(event, listener)
            return fn(*args, **kwargs)

        listener.__wrapped__ = fn  # type: ignore[attr-defined]
        bus.on(event, listener, priority=self.priority)
        tickets[slot] = ticket
        return fn


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    registrar = _Registrar(bus, event, priority)
    if handler is None:
        return registrar
    return registrar(handler)
