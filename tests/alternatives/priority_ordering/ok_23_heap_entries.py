"""Correct solution, style: one heap of (-priority, sequence, handler) tuples per event; emit pops a copy.

Follows: "a bigger priority runs earlier" and "listeners of the same priority run in
the order they were registered" (the unique sequence number breaks every tie, so the
handlers themselves are never compared); "an emit works on a snapshot of the listeners
taken when it starts" (emit pops from its own copy of the heap); "off compares handlers
with ==, not is"; "If what a listener returns is awaitable (inspect.isawaitable), it is
awaited to the end before the next listener starts"; "its exception comes out of emit
at once".
"""

from __future__ import annotations

import heapq
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

_Entry = tuple[int, int, Callable[..., Any]]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit``: a heap per event, ordered by (-priority, sequence)."""

    def __init__(self) -> None:
        self._heaps: dict[str, list[_Entry]] = {}
        self._tickets = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entry: _Entry = (-int(priority), next(self._tickets), handler)
        heapq.heappush(self._heaps.setdefault(event, []), entry)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        heap = self._heaps.get(event)
        if heap is None:
            return
        remaining = [entry for entry in heap if not entry[2] == handler]
        if not remaining:
            del self._heaps[event]
            return
        heapq.heapify(remaining)
        # a new list: an emit that is running keeps the one it copied
        self._heaps[event] = remaining

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        pending = list(self._heaps.get(event, ()))
        while pending:
            _, _, handler = heapq.heappop(pending)
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
