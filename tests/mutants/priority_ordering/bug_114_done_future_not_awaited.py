"""Bug: a returned Future or Task that is already done is treated as "nothing left to wait for" and skipped instead of awaited, so its exception (or cancellation) is silently dropped and the emit goes on.

Breaks: "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts." and "A listener that raises: its exception comes out of `emit` at once, and the listeners after it do not run in that emit" ... A listener that returns a finished `asyncio.Future` whose exception is `ValueError` (or a Task that already failed): `await emit("e")` should raise that `ValueError`, but it returns None and the lower-priority listeners still run.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import defaultdict
from collections.abc import Callable
from itertools import count
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._by_event: defaultdict[str, list[tuple[int, int, Callable[..., Any]]]] = (
            defaultdict(list)
        )
        self._counter = count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._by_event[event].append((int(priority), next(self._counter), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._by_event:
            return
        remaining = [entry for entry in self._by_event[event] if not entry[2] == handler]
        if remaining:
            self._by_event[event] = remaining
        else:
            del self._by_event[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        ordered = sorted(self._by_event.get(event, ()), key=lambda e: (-e[0], e[1]))
        for _, _, handler in ordered:
            result = handler(*args, **kwargs)
            if not inspect.isawaitable(result):
                continue
            if asyncio.isfuture(result) and result.done():
                continue  # already settled: nothing left to wait for
            await result
