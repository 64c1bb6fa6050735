"""Exercise 1: priority_ordering. Per-event list of [priority, sequence, handler] rows; emit takes its snapshot with copy.deepcopy so nothing done during the emit can touch it.

BUG (planted): the page says "an emit works on a **snapshot** of the listeners taken when it
starts (a copy of the list, holding the registered handlers themselves, never copies of
them)". This version takes the snapshot with `copy.deepcopy` (the student reached for the
"safest" copy), which copies what a bound method or a callable object is made of: an
emit calls a copy of `counter.hit` bound to a copy of `counter`, so the listener that runs
is not the registered one and its state changes are lost after the emit.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._rows: dict[str, list[list[Any]]] = {}
        self._count = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._count += 1
        self._rows.setdefault(event, []).append([int(priority), self._count, handler])
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        rows = self._rows.get(event)
        if rows is not None:
            self._rows[event] = [row for row in rows if not row[2] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        # a snapshot that on/off (or anything else) during this emit cannot change
        snapshot = copy.deepcopy(self._rows.get(event, []))
        snapshot.sort(key=lambda row: (-row[0], row[1]))
        for _priority, _count, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
