"""Bug: a Task or Future a listener returns is awaited with asyncio.wait, which waits for it but never re-raises its exception.

Breaks: "If what a listener returns is awaitable, it is awaited to the end" (rule 3) together with "its exception comes out of emit at once, and the listeners after it do not run" (rule 8): a returned Task that fails is silently passed over.
"""

from __future__ import annotations

import asyncio
import bisect
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Each event keeps a list sorted on insert with bisect (key: minus priority)."""

    def __init__(self) -> None:
        self._by_event: dict[str, list[tuple[int, Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        entries = self._by_event.setdefault(event, [])
        # insort (right) places it after every entry of the same priority
        bisect.insort(entries, (-int(priority), handler), key=lambda e: e[0])
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._by_event.get(event)
        if entries:
            self._by_event[event] = [e for e in entries if e[1] != handler]

    @staticmethod
    async def _settle(result: Any) -> None:
        if isinstance(result, asyncio.Future):
            # tasks and futures are already scheduled: just wait until they are done
            await asyncio.wait([result])
        elif inspect.isawaitable(result):
            await result

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        snapshot = tuple(self._by_event.get(event, ()))
        for _, handler in snapshot:
            await self._settle(handler(*args, **kwargs))
