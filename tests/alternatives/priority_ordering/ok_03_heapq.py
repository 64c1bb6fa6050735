"""OK variant (style: a heapq per event of (-priority, seq, handler); emit pops
from a copy of the heap, so the stored heap is a snapshot source).

Priorities go through day25.coerce_priority, so EventPriority members, plain ints
and level names are all accepted.

Updated for the re-specified text: off now compares with ``==`` (rule 6); the
earlier version used ``is`` and would fail rule 6 (bound methods).
"""

from __future__ import annotations

import heapq
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority, coerce_priority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._heaps: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._counter = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: EventPriority = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._counter += 1
        heapq.heappush(
            self._heaps.setdefault(event, []), (-coerce_priority(priority), self._counter, handler)
        )
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        heap = self._heaps.get(event)
        if heap is None:
            return
        remaining = [item for item in heap if item[2] != handler]
        heapq.heapify(remaining)
        self._heaps[event] = remaining

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        pending = list(self._heaps.get(event, ()))  # already a heap: a copy stays one
        while pending:
            _, _, handler = heapq.heappop(pending)
            value = handler(*args, **kwargs)
            if inspect.isawaitable(value):
                await value
