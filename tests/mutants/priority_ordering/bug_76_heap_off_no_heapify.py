"""Bug: listeners live in a heap, and off filters the heap list without re-heapifying it, so after some removals emit pops listeners out of order.

Breaks: "a bigger priority runs earlier" (rule 1) and "listeners of the same priority run in the order they were registered" (rule 2), after an off.
"""

from __future__ import annotations

import heapq
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """A min-heap of (minus priority, registration number, handler) per event."""

    def __init__(self) -> None:
        self._heaps: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._tick = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        heap = self._heaps.setdefault(event, [])
        heapq.heappush(heap, (-int(priority), next(self._tick), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        heap = self._heaps.get(event)
        if heap:
            self._heaps[event] = [item for item in heap if item[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        work = list(self._heaps.get(event, []))  # snapshot; popping does not touch the original
        while work:
            _, _, handler = heapq.heappop(work)
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
