"""Bug: an emit whose event and arguments equal those of an emit still in flight returns at once without calling anyone, on the idea that the running one already delivers the same thing.

Breaks: "Two emits may also run at the same time (`asyncio.gather(emitter.emit("e", 1), emitter.emit("e", 2))`): each calls every listener of its own snapshot, with its own arguments." and "`emit` returns only after the last listener finished." ... `asyncio.gather(emitter.emit("e", 1), emitter.emit("e", 1))` with an async listener calls it once instead of twice; a listener that re-emits its own event with the same arguments gets an inner emit that runs nobody.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Hashable
from heapq import heappush, nsmallest
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> heap of (-priority, seq, handler)
        self._heaps: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._seq = 0
        self._in_flight: set[Hashable] = set()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        heappush(self._heaps.setdefault(event, []), (-int(priority), self._seq, handler))
        self._seq += 1
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        heap = self._heaps.get(event)
        if not heap:
            return
        kept = sorted(entry for entry in heap if not entry[2] == handler)  # sorted is a heap
        if kept:
            self._heaps[event] = kept
        else:
            del self._heaps[event]

    @staticmethod
    def _key(event: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable | None:
        key = (event, args, frozenset(kwargs.items()))
        try:
            hash(key)
        except TypeError:  # unhashable payload: never coalesced
            return None
        return key

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        heap = self._heaps.get(event)
        if not heap:
            return None
        key = self._key(event, args, kwargs)
        if key is not None:
            if key in self._in_flight:
                return None  # the same emit is already running: nothing new to deliver
            self._in_flight.add(key)
        try:
            snapshot = [entry[2] for entry in nsmallest(len(heap), heap, key=lambda e: e[:2])]
            for handler in snapshot:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            if key is not None:
                self._in_flight.discard(key)
        return None
