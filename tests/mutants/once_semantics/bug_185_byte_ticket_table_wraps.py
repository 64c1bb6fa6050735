"""Bug: every registration on a bus gets a slot in a 256-byte state table by its ticket number modulo 256, so the 257th registration shares a slot with the 1st and whichever of them fires first marks the slot fired for both.

Breaks: "**Exactly once**: `handler` runs on the next emit of `event`, and never again." ... `once(bus, "a", h)`, then 256 more `once(bus, "b", g)` and `await bus.emit("b")`: the 257th registration takes slot 0 and fires, so the later `await bus.emit("a")` finds slot 0 already fired and `h` never runs.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_FREE, _ARMED, _FIRED = 0, 1, 2
_TABLE_SIZE = 256  # one byte of state per registration: compact, and plenty for a bus


class _BusTable:
    """The once-registrations of one bus: a ticket counter and a byte of state each."""

    def __init__(self) -> None:
        self.tickets = itertools.count()
        self.state = bytearray(_TABLE_SIZE)

    def take_ticket(self) -> int:
        return next(self.tickets) % _TABLE_SIZE

    def claim(self, slot: int) -> bool:
        if self.state[slot] != _ARMED:
            return False
        self.state[slot] = _FIRED
        return True


_tables: weakref.WeakKeyDictionary[EventBus, _BusTable] = weakref.WeakKeyDictionary()


def _table(bus: EventBus) -> _BusTable:
    table = _tables.get(bus)
    if table is None:
        table = _tables[bus] = _BusTable()
    return table


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # refuses a bad event or priority now, registers nothing

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register

    table = _table(bus)
    slot = table.take_ticket()

    def listener(*args: Any, **kwargs: Any) -> Any:
        if not table.claim(slot):
            return None
        bus.off(event, listener)
        return handler(*args, **kwargs)  # the bus awaits it if it is awaitable

    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, listener, priority=priority)
    table.state[slot] = _ARMED
    return handler
