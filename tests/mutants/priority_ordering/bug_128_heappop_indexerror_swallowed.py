"""Bug: `emit` pops its snapshot heap until `heappop` raises `IndexError`, with the listener call inside the same `try`, so a listener's own `IndexError` silently ends the emit.

Breaks: "its exception comes out of `emit` at once, and the listeners after it do not run in that emit (like a plain `for` loop). It is the listener's own exception, not another one wrapping it" ... With `on("e", lambda x: [][0])` and a LOW listener after it, `await emit("e", 1)` returns None normally: the `IndexError` never reaches the caller (the LOW listener does not run either).
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
        # event -> heap of (-priority, tick, handler); the tick is unique, so handlers
        # are never compared
        self._heaps: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._ticks = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        heap = self._heaps.setdefault(event, [])
        heapq.heappush(heap, (-int(priority), next(self._ticks), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        heap = self._heaps.get(event)
        if not heap:
            return
        kept = [entry for entry in heap if not entry[2] == handler]
        heapq.heapify(kept)
        self._heaps[event] = kept

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        pending = list(self._heaps.get(event, ()))  # a copy of a heap is a heap
        while True:
            try:
                _, _, handler = heapq.heappop(pending)
                result = handler(*args, **kwargs)
            except IndexError:  # the heap is empty: every listener ran
                return None
            if inspect.isawaitable(result):
                await result
