"""Bug: off() only records a tombstone in a bounded deque (maxlen 32) that the next emit of the event applies, so once more than 32 offs (on any events, known or not) pile up before that emit, the oldest tombstones fall out and those handlers are never removed.

Breaks: "`off(event, handler)` removes all of its registrations on that event" and "After `off`, nothing of that handler is left on that event" ... Register 40 handlers on "e", `off` each of them, then `emit("e")`: the first 8 removed handlers still run.
"""

from __future__ import annotations

import bisect
import inspect
from collections import deque
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

_MAX_PENDING_OFFS = 32  # keep the pending removals small


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> [(-priority, seq, handler)] sorted by (-priority, seq)
        self._table: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        # (event, handler, seq at the time of off): removals not applied yet
        self._tombstones: deque[tuple[str, Callable[..., Any], int]] = deque(
            maxlen=_MAX_PENDING_OFFS
        )
        self._seq = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entry = (-int(priority), self._seq, handler)
        self._seq += 1
        rows = self._table.setdefault(event, [])
        rows.insert(bisect.bisect_right(rows, entry[:2], key=lambda row: row[:2]), entry)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        # O(1): remember it; the next emit of ``event`` drops the registrations
        # made before this moment (a later ``on`` is a new registration).
        self._tombstones.append((event, handler, self._seq))

    def _apply_tombstones(self, event: str) -> None:
        mine = [t for t in self._tombstones if t[0] == event]
        if not mine:
            return
        others = [t for t in self._tombstones if t[0] != event]
        self._tombstones.clear()
        self._tombstones.extend(others)
        rows = self._table.get(event, [])
        kept = [
            row for row in rows
            if not any(row[1] < stamp and row[2] == dead for _, dead, stamp in mine)
        ]
        if kept:
            self._table[event] = kept
        else:
            self._table.pop(event, None)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        self._apply_tombstones(event)
        snapshot = [handler for _, _, handler in self._table.get(event, ())]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
