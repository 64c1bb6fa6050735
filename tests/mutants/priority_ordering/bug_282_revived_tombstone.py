"""Exercise 1: priority_ordering. Registration records with an ``active`` flag: ``off`` retires records instead of rebuilding the list, ``on`` recycles a retired record of the same handler and priority, and dead records are swept in bulk.

BUG (planted): "After `off`, nothing of that handler is left on that event: `on` again is
a new registration, so it runs once, after the listeners of its priority registered
before it (its old place is gone)." Here ``off`` leaves the retired record in the list
(swept only once many are dead) and ``on`` of the same handler at the same priority
brings the newest retired record back to life, old place included: after ``on(a)``,
``on(b)``, ``off(a)``, ``on(a)`` the re-registered ``a`` runs *before* ``b``. A student
writes it to keep ``off`` cheap and the list from growing, and re-registering a
handler right after removing all its copies still lands last.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority

Handler = Callable[..., Any]

_SWEEP_AT = 32  # retired records tolerated before the list is compacted


@dataclass(eq=False)
class _Record:
    priority: int
    order: int
    handler: Handler
    active: bool = True


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._records: dict[str, list[_Record]] = {}
        self._retired: dict[str, int] = {}
        self._orders = itertools.count()

    def on(
        self,
        event: str,
        handler: Handler,
        priority: int = EventPriority.MEDIUM,
    ) -> Handler:
        """Call ``handler`` on every ``event``; return ``handler``."""
        level = int(priority)
        records = self._records.setdefault(event, [])
        for record in reversed(records):  # recycle the newest retired record
            if not record.active and record.priority == level and record.handler == handler:
                record.active = True
                self._retired[event] -= 1
                return handler
        records.append(_Record(level, next(self._orders), handler))
        records.sort(key=lambda r: (-r.priority, r.order))
        return handler

    def off(self, event: str, handler: Handler) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        records = self._records.get(event)
        if not records:
            return
        for record in records:
            if record.active and record.handler == handler:
                record.active = False
                self._retired[event] = self._retired.get(event, 0) + 1
        if self._retired.get(event, 0) > _SWEEP_AT:
            self._records[event] = [r for r in records if r.active]
            self._retired[event] = 0

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = [r.handler for r in self._records.get(event, ()) if r.active]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
