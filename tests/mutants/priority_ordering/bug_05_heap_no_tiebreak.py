"""BUG: stores (-priority, handler) in a heap without a registration counter. Two
different listeners with the same priority make the tuples compare the handlers
themselves: TypeError ('<' not supported between instances of 'function').

Violates rule 2: "**Ties**: listeners of the same priority run in the order they
were registered." (with ties, emit crashes instead).

(Re-checked under the re-specified text: still a bug; off changed from ``is``
to ``==`` so that this stays the only mistake.)
"""

from __future__ import annotations

import heapq
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._heaps: dict[str, list[tuple[int, Callable[..., Any]]]] = {}

    def on(self, event: str, handler: Callable[..., Any],
           priority: EventPriority = EventPriority.MEDIUM) -> Callable[..., Any]:
        heap = self._heaps.setdefault(event, [])
        heap.append((-int(priority), handler))  # heapify later, in emit
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        heap = self._heaps.get(event)
        if heap:
            heap[:] = [item for item in heap if item[1] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        pending = list(self._heaps.get(event, ()))
        heapq.heapify(pending)
        while pending:
            _, handler = heapq.heappop(pending)
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
