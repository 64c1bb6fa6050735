"""Bug: only coroutines and futures (Task/Future) are awaited; any other awaitable object (a class with an await method) is ignored.

Breaks: "If what a listener returns is awaitable (inspect.isawaitable), it is awaited to the end before the next listener starts."
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """A heap per event of (negated priority, sequence, handler)."""

    def __init__(self) -> None:
        self._heaps: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._seq = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        heap = self._heaps.setdefault(event, [])
        heapq.heappush(heap, (-int(priority), next(self._seq), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        heap = self._heaps.get(event)
        if heap is None:
            return
        heap[:] = [item for item in heap if item[2] != handler]
        heapq.heapify(heap)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        pending = list(self._heaps.get(event, ()))
        while pending:
            _, _, handler = heapq.heappop(pending)
            result = handler(*args, **kwargs)
            # a coroutine, a Task or a Future: those are the awaitables
            if asyncio.iscoroutine(result) or asyncio.isfuture(result):
                await result
