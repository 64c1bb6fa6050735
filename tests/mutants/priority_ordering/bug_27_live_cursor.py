"""BUG (was amb_03_live_cursor.py, decided by the new text): "live" emit instead
of a snapshot. Before each call emit re-reads the registrations and takes the next
one after a (priority, order) cursor, so a listener removed mid-emit is NOT called
and one added mid-emit with a later place IS called in this emit.

Violates rule 7: "an emit works on a **snapshot** of the listeners taken when it
starts [...] (a listener removed meanwhile still runs in this emit; one added
meanwhile does not)."
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._order = itertools.count()

    def on(self, event: str, handler: Callable[..., Any],
           priority: EventPriority = EventPriority.MEDIUM) -> Callable[..., Any]:
        self._listeners.setdefault(event, []).append((-int(priority), next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if entries:
            entries[:] = [e for e in entries if e[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        cursor: tuple[int, int] | None = None
        while True:
            upcoming = [e for e in self._listeners.get(event, ()) if cursor is None or e[:2] > cursor]
            if not upcoming:
                return
            entry = min(upcoming, key=lambda e: e[:2])
            cursor = entry[:2]
            result = entry[2](*args, **kwargs)
            if inspect.isawaitable(result):
                await result
