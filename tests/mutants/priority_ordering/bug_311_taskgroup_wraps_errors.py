"""Exercise 1: priority_ordering. Awaitables are run in an asyncio.TaskGroup, one at a time.

BUG (planted): "It is the listener's own exception, not another one wrapping it: a
listener's `ValueError` comes out of `emit` as that `ValueError`". Each awaitable is awaited
inside its own ``asyncio.TaskGroup`` (so a cancelled emit cleans it up), and a TaskGroup
re-raises a child's failure as an ExceptionGroup: an async listener's ValueError comes out
wrapped and ``except ValueError`` misses it (a sync listener's raise is not wrapped).
"""

from __future__ import annotations

import asyncio
import bisect
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


async def _wait(awaitable: Any) -> Any:
    return await awaitable


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._seq = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entries = self._listeners.setdefault(event, [])
        key = (-int(priority), next(self._seq))
        index = bisect.bisect_right([e[:2] for e in entries], key)
        entries.insert(index, (key[0], key[1], handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if entries is None:
            return
        kept = [e for e in entries if not (e[2] == handler)]
        if kept:
            self._listeners[event] = kept
        else:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = [e[2] for e in self._listeners.get(event, ())]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                async with asyncio.TaskGroup() as group:
                    group.create_task(_wait(result))
        return None
