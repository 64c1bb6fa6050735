"""Bug: every result is awaited EAFP-style and TypeError is taken to mean not awaitable, so a TypeError raised inside an awaited listener is swallowed and the emit goes on.

Breaks: "A listener that raises: its exception comes out of emit at once, and the listeners after it do not run in that emit (like a plain for loop)."
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """A heap of (negative priority, sequence, handler) per event."""

    def __init__(self) -> None:
        self._heaps: dict[Any, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._counter = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        heapq.heappush(self._heaps.setdefault(event, []),
                       (-int(priority), next(self._counter), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        heap = self._heaps.get(event)
        if heap is None:
            return
        kept = [entry for entry in heap if entry[2] != handler]
        heapq.heapify(kept)
        self._heaps[event] = kept

    async def emit(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        pending = list(self._heaps.get(event, ()))
        while pending:
            _, _, handler = heapq.heappop(pending)
            result = handler(*args, **kwargs)
            try:
                await result
            except TypeError:
                # "object X can't be used in 'await' expression": a plain sync listener
                pass
