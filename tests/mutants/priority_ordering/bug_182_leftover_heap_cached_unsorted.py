"""Bug: when a listener raises, the emit caches "popped so far + what is left in the heap" as the order for the next emits, but the leftover heap list is in heap layout, not sorted.

Breaks: "The emitter stays usable: the next emit runs every listener again." and "a bigger priority runs earlier: `HIGHEST`, `HIGH`, `MEDIUM`, `LOW`, `LOWEST`." ... With `flaky` (HIGHEST, raises only on its first call) then `a` LOWEST, `c` MEDIUM, `b` LOW, `d` HIGH registered, the first emit raises and the second runs `flaky, d, b, c, a` (LOW before MEDIUM) instead of `flaky, d, c, b, a`; an emit cancelled by `asyncio.wait_for` while `flaky` sleeps leaves the same wrong order behind.
"""

from __future__ import annotations

import heapq
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

Entry = tuple[int, int, Callable[..., Any]]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._entries: dict[str, list[Entry]] = {}
        self._order: dict[str, list[Entry]] = {}    # cached call order per event
        self._version: dict[str, int] = {}          # bumped by every on/off
        self._seq = 0

    def _changed(self, event: str) -> None:
        self._version[event] = self._version.get(event, 0) + 1
        self._order.pop(event, None)

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._seq += 1
        # heap entries: smallest first, so the priority is negated; seq breaks ties
        self._entries[event] = [*self._entries.get(event, ()), (-int(priority), self._seq, handler)]
        self._changed(event)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._entries.get(event)
        if entries is None:
            return
        kept = [entry for entry in entries if not entry[2] == handler]
        if len(kept) == len(entries):
            return
        if kept:
            self._entries[event] = kept
        else:
            del self._entries[event]
        self._changed(event)

    @staticmethod
    async def _call(handler: Callable[..., Any], args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> None:
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        cached = self._order.get(event)
        if cached is not None:
            for _, _, handler in tuple(cached):
                await self._call(handler, args, kwargs)
            return None

        # first emit since a change: sort lazily with a heap, remembering the order
        version = self._version.get(event)
        heap = list(self._entries.get(event, ()))
        heapq.heapify(heap)
        done: list[Entry] = []
        try:
            while heap:
                entry = heapq.heappop(heap)
                done.append(entry)
                await self._call(entry[2], args, kwargs)
        finally:
            if self._version.get(event) == version:
                # what was not popped is still in the heap: keep it for next time
                self._order[event] = done + heap
        return None
