"""Bug: an on() made while an emit runs appends the new listener at the end of a copied list and leaves the re-sort for when that emit ends, so an inner (or concurrent) emit started before then runs it out of priority order.

Breaks: "That inner emit is an emit like any other (its own snapshot, taken when it starts; its listeners in order)" and "a bigger priority runs earlier" ... "e" has `starter` (MEDIUM: on its first call does `on("e", urgent, HIGHEST)` then `await emit("e", "inner")`) and `tail` (LOW): the inner emit runs starter, tail, urgent instead of urgent, starter, tail.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._counter = 0
        self._depth = 0
        self._rows: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._unsorted: set[str] = set()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._counter += 1
        row = (-int(priority), self._counter, handler)
        if self._depth:
            # an emit may be walking the list: copy it, append, sort when it ends
            self._rows[event] = [*self._rows.get(event, ()), row]
            self._unsorted.add(event)
        else:
            rows = self._rows.setdefault(event, [])
            rows.append(row)
            rows.sort(key=lambda r: (r[0], r[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        rows = self._rows.get(event)
        if rows is None:
            return
        kept = [r for r in rows if not r[2] == handler]
        if self._depth:
            self._rows[event] = kept
        else:
            rows[:] = kept

    def _resort(self) -> None:
        for event in self._unsorted:
            self._rows[event].sort(key=lambda r: (r[0], r[1]))
        self._unsorted.clear()

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        rows = self._rows.get(event, [])
        self._depth += 1
        try:
            for _neg, _n, handler in rows:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            self._depth -= 1
            if not self._depth:
                self._resort()
        return None
