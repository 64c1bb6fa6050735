"""Bug: each bus keeps its once-registrations' armed flags in one reusable list, and a slot freed by a wrapper that fired is handed to the next registration, so a stale wrapper still in an older emit's snapshot finds "its" slot armed again and fires a second time, stealing the new registration's turn.

Breaks: "`await asyncio.gather(bus.emit(event, 1), bus.emit(event, 2))` with async listeners runs the handler once in total." and "`once(bus, event, handler)` called by a listener (or by the handler itself) while an emit of `event` runs counts from the next emit" ... a slow HIGH async listener, `once(bus, "e", a)` where `a` calls `once(bus, "e", b)`, then `gather(emit("e", 1), emit("e", 2))` and `emit("e", 3)`: `a` runs twice (with 1 and 2, so `b` is given twice), and after `b` ran on the third emit one of its wrappers is still on the bus, disarmed for good.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Slab:
    """The armed flags of one bus's once-registrations, one slot each.

    Freed slots go on a free list and are reused, so the list stays as short as
    the number of once-listeners pending at any time.
    """

    __slots__ = ("armed", "free")

    def __init__(self) -> None:
        self.armed: list[bool] = []
        self.free: list[int] = []

    def take(self) -> int:
        if self.free:
            slot = self.free.pop()
            self.armed[slot] = True
            return slot
        self.armed.append(True)
        return len(self.armed) - 1

    def claim(self, slot: int) -> bool:
        if not self.armed[slot]:
            return False
        self.armed[slot] = False
        self.free.append(slot)
        return True


_SLABS: weakref.WeakKeyDictionary[EventBus, _Slab] = weakref.WeakKeyDictionary()


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    slab = _SLABS.get(bus)
    if slab is None:
        slab = _SLABS[bus] = _Slab()
    slot = slab.take()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not slab.claim(slot):
            return None
        bus.off(event, wrapper)
        return handler(*args, **kwargs)  # the bus awaits what is awaitable

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)
    return handler
