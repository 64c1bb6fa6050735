"""BUG: treats a smaller priority number as "more urgent" (as in heapq / nice
levels) and sorts ascending, so LOW (1) runs first and HIGH (3) last.

Violates rule 1: "**Priority**: a bigger priority runs earlier: `HIGHEST`, `HIGH`,
`MEDIUM`, `LOW`, `LOWEST`."

(Re-checked under the re-specified text: still a bug; off changed from ``is``
to ``==`` so that this stays the only mistake.)
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
        self._listeners.setdefault(event, []).append((int(priority), next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if entries:
            entries[:] = [e for e in entries if e[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        # priority 1 first, like a ticket queue
        for _priority, _order, handler in sorted(self._listeners.get(event, ())):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
