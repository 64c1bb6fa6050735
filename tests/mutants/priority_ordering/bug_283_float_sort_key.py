"""Exercise 1: priority_ordering. A heap of (sort key, sequence, handler) entries per event; priorities are typed as floats so 2.5 could sit between MEDIUM and HIGH.

BUG (planted): the page says "`2**53 + 1` before `2**53`, however large (an `int`, not a
`float`)". This version turns every priority into its sort key with `-float(priority)`
(the student wanted fractional priorities too), so two different int priorities that
round to the same float, such as `2**53` and `2**53 + 1`, become one priority and run in
registration order instead of the bigger one first.
"""

from __future__ import annotations

import heapq
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

_Entry = tuple[float, int, Callable[..., Any]]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._heaps: dict[str, list[_Entry]] = {}
        self._next_seq = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: float = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        # negated so the smallest key (the biggest priority) pops first
        key = -float(priority)
        heapq.heappush(self._heaps.setdefault(event, []), (key, self._next_seq, handler))
        self._next_seq += 1
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        heap = self._heaps.get(event)
        if heap is None:
            return
        kept = [entry for entry in heap if not entry[2] == handler]
        heapq.heapify(kept)
        self._heaps[event] = kept

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        heap = self._heaps.get(event, [])
        # sorted() on (key, seq) is the heap order, and it is a copy: a snapshot
        snapshot = [handler for _, _, handler in sorted(heap, key=lambda e: (e[0], e[1]))]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
