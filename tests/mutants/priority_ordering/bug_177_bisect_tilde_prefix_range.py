"""Bug: listeners live in one sorted list of (event, -priority, seq, handler) rows, and an event's rows are found with the bisect range [(event,), (event + "~",)), which also takes in every longer event name that starts with `event` (followed by any character up to "~").

Breaks: "An event is its exact name: `"Save"`, `"save"` and `" save"` are three events." and "a listener of `"*"` or `"ui:*"` hears only an emit of that very name" ... after `on("save", a)` and `on("saved", b)`, `emit("save")` calls both `a` and `b` (and `off("save", b)` removes `b` from "saved"); `emit("saved")` is right.
"""

from __future__ import annotations

import bisect
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # one flat table, sorted by (event, -priority, seq): an event's listeners are a slice
        self._rows: list[tuple[str, int, int, Callable[..., Any]]] = []
        self._seq = 0

    def _span(self, event: str) -> tuple[int, int]:
        lo = bisect.bisect_left(self._rows, (event,))
        hi = bisect.bisect_left(self._rows, (event + "~",), lo)
        return lo, hi

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._seq += 1
        bisect.insort(self._rows, (event, -int(priority), self._seq, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        lo, hi = self._span(event)
        doomed = [i for i in range(lo, hi) if self._rows[i][3] == handler]
        if doomed:
            self._rows = [row for i, row in enumerate(self._rows) if i not in set(doomed)]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        lo, hi = self._span(event)
        handlers = [row[3] for row in self._rows[lo:hi]]
        for handler in handlers:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
