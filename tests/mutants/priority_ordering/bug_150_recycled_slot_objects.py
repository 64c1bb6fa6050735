"""Bug: off() returns the removed registrations' slot objects to a free list and on() reuses them by overwriting their fields, so an emit that is still running and holds such a slot in its snapshot calls the new handler instead of the removed one.

Breaks: "A listener that calls `on` or `off` while the emit runs changes the *next* emit, not this one (a listener removed meanwhile still runs in this emit; one added meanwhile does not)." ... With `a` (HIGH) doing `off("e", v)` then `on("e", w)` and `v` (LOW), `emit("e")` calls a then w; v, removed meanwhile, never runs, and w, added meanwhile, runs already.
"""

from __future__ import annotations

import bisect
import inspect
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from day25 import EventPriority


class _Slot:
    """One registration. Slots are pooled: allocating one per ``on`` is wasteful."""

    __slots__ = ("rank", "seq", "handler")

    def __init__(self) -> None:
        self.rank = 0
        self.seq = 0
        self.handler: Callable[..., Any] | None = None


_RANK = attrgetter("rank")


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._slots: dict[str, list[_Slot]] = {}  # sorted by (rank, seq)
        self._free: list[_Slot] = []
        self._seq = 0

    def _take(self, rank: int, handler: Callable[..., Any]) -> _Slot:
        slot = self._free.pop() if self._free else _Slot()
        slot.rank = rank
        slot.seq = self._seq
        slot.handler = handler
        self._seq += 1
        return slot

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        slot = self._take(-int(priority), handler)
        slots = self._slots.setdefault(event, [])
        # after every slot of the same rank: ties keep registration order
        slots.insert(bisect.bisect_right(slots, slot.rank, key=_RANK), slot)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        slots = self._slots.get(event)
        if not slots:
            return
        kept: list[_Slot] = []
        for slot in slots:
            if slot.handler == handler:
                self._free.append(slot)  # recycle it for the next ``on``
            else:
                kept.append(slot)
        if kept:
            self._slots[event] = kept
        else:
            del self._slots[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = tuple(self._slots.get(event, ()))
        for slot in snapshot:
            result = slot.handler(*args, **kwargs)  # type: ignore[misc]
            if inspect.isawaitable(result):
                await result
        return None
