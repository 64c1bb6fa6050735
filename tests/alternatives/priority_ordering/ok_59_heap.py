"""
CORRECT (alternative design): each event keeps a binary heap of (-priority, sequence, handler).
The sequence number is unique and only grows, so heap tuples never compare handlers, ties
keep registration order, and a re-registration after `off` gets a new (later) number.
emit takes its snapshot at once with `sorted(heap)` (a new list, the handlers themselves);
off rebuilds the heap without the entries whose handler is == the one given.
"""

from __future__ import annotations

import heapq
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._heaps: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._sequence = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        heapq.heappush(self._heaps.setdefault(event, []), (-int(priority), next(self._sequence), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        heap = self._heaps.get(event)
        if not heap:
            return
        kept = [item for item in heap if item[2] != handler]
        heapq.heapify(kept)
        self._heaps[event] = kept

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = [item[2] for item in sorted(self._heaps.get(event, ()), key=lambda i: (i[0], i[1]))]
        for handler in snapshot:
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
        return None
