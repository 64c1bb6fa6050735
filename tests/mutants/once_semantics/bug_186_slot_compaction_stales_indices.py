"""Bug: each registration remembers its index in a per-bus slot list, and the list is compacted (fired slots dropped) once it reaches 32 entries, so registrations made before a compaction look at the wrong index and never fire.

Breaks: "**Exactly once**: `handler` runs on the next emit of `event`, and never again." ... `once` five handlers on `"x"` and `await bus.emit("x")`, then `once` 30 handlers on `"y"`: the 28th registration compacts the list, and `await bus.emit("y")` runs only the 3 handlers registered after it; the other 27 never run.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Slots:
    """Per bus: one slot per once-registration, None once it fired."""

    COMPACT_AT = 32

    def __init__(self) -> None:
        self.items: list[object | None] = []

    def add(self, owner: object) -> int:
        if len(self.items) >= self.COMPACT_AT:
            # keep the list short on long-lived buses: drop the slots that fired
            self.items = [item for item in self.items if item is not None]
        self.items.append(owner)
        return len(self.items) - 1

    def claim(self, index: int, owner: object) -> bool:
        if index < len(self.items) and self.items[index] is owner:
            self.items[index] = None
            return True
        return False


_slots: weakref.WeakKeyDictionary[EventBus, _Slots] = weakref.WeakKeyDictionary()


class _OnceListener:
    """The listener ``once`` registers: claims its slot, takes itself off, calls the handler."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.__wrapped__ = handler
        slots = _slots.get(bus)
        if slots is None:
            slots = _slots[bus] = _Slots()
        self.slots = slots
        self.index = -1

    def arm(self) -> None:
        self.index = self.slots.add(self)

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if not self.slots.claim(self.index, self):
            return None
        self.bus.off(self.event, self)
        return self.__wrapped__(*args, **kwargs)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # validates event and priority, registers nothing
        return lambda fn: once(bus, event, fn, priority=priority)
    listener = _OnceListener(bus, event, handler)
    bus.on(event, listener, priority=priority)
    listener.arm()
    return handler
