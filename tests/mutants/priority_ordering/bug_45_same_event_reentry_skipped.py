"""Bug: a guard against endless recursion makes an emit of an event that is already being emitted return without running anything.

Breaks: "Emits inside a listener: a listener may await emitter.emit(...), of another event or of the same one. That inner emit is an emit like any other (its own snapshot, taken when it starts; its listeners in order) and runs to its end before the outer emit goes on."
"""

from __future__ import annotations

import heapq
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """A heap per event of (minus priority, registration number, handler)."""

    def __init__(self) -> None:
        self._heaps: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._tick = 0
        self._running: set[str] = set()  # events whose emit is in progress

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._tick += 1
        heapq.heappush(self._heaps.setdefault(event, []), (-int(priority), self._tick, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``."""
        heap = self._heaps.get(event)
        if heap is None:
            return
        rest = [item for item in heap if item[2] != handler]
        heapq.heapify(rest)
        self._heaps[event] = rest

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        if event in self._running:
            # a listener re-emitting its own event would loop forever: ignore it
            return
        pending = list(self._heaps.get(event, []))  # copy: the snapshot
        self._running.add(event)
        try:
            while pending:
                _key, _tick, handler = heapq.heappop(pending)
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            self._running.discard(event)
