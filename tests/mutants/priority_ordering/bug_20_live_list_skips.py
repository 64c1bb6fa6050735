"""BUG: keeps each event's list sorted at registration (bisect.insort) and emit
iterates that LIVE list, while off deletes from it in place. A listener that
calls off (on itself, or on an earlier one) during an emit shifts the list under
the iterator: the next listener, still registered, is skipped.

Violates rule 7: "an emit works on a **snapshot** of the listeners taken when it
starts" and the table "calls every listener of `event`" (a listener that was
registered and never removed is not called).

(Re-checked under the re-specified text: still a bug; off changed from ``is``
to ``==`` so that this stays the only mistake.)
"""

from __future__ import annotations

import bisect
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> [(-priority, order, handler)], always sorted
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._order = itertools.count()

    def on(self, event: str, handler: Callable[..., Any],
           priority: EventPriority = EventPriority.MEDIUM) -> Callable[..., Any]:
        entries = self._listeners.setdefault(event, [])
        bisect.insort(entries, (-int(priority), next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event, [])
        for index in reversed(range(len(entries))):
            if entries[index][2] == handler:
                del entries[index]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for _, _, handler in self._listeners.get(event, []):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
