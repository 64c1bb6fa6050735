"""Bug: awaitability is tested with isinstance(result, collections.abc.Awaitable), which misses generator-based coroutines that inspect.isawaitable accepts.

Breaks: "If what a listener returns is awaitable (inspect.isawaitable), it is awaited to the end before the next listener starts."
"""

from __future__ import annotations

import bisect
from collections.abc import Awaitable, Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Entries kept sorted on insert with bisect (insort_right keeps ties in order)."""

    def __init__(self) -> None:
        self._entries: dict[str, list[tuple[int, Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        entries = self._entries.setdefault(event, [])
        bisect.insort_right(entries, (int(priority), handler), key=lambda e: -e[0])
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        if event in self._entries:
            self._entries[event] = [e for e in self._entries[event] if not (e[1] == handler)]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for _prio, handler in tuple(self._entries.get(event, ())):
            result = handler(*args, **kwargs)
            if isinstance(result, Awaitable):
                await result
