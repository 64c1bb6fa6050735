"""Bug: emit keeps awaiting while the result is still awaitable, so an awaitable that a listener's awaitable gives back is awaited too.

Breaks: "It is awaited once: what that gives back is a value, even when it is awaitable too."
"""

from __future__ import annotations

import heapq
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """A heap of (-priority, seq, handler) per event."""

    def __init__(self) -> None:
        self._heaps: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._seq = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._seq += 1
        heapq.heappush(self._heaps.setdefault(event, []), (-int(priority), self._seq, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        heap = self._heaps.get(event)
        if not heap:
            return
        kept = [entry for entry in heap if not (entry[2] == handler)]
        heapq.heapify(kept)
        self._heaps[event] = kept

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        snapshot = sorted(self._heaps.get(event, []), key=lambda e: (e[0], e[1]))
        for _neg, _seq, handler in snapshot:
            result = handler(*args, **kwargs)
            # unwrap until we reach a real value
            while inspect.isawaitable(result):
                result = await result
