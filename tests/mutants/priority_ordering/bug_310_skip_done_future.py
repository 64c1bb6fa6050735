"""Exercise 1: priority_ordering. An awaitable that is already done is not awaited.

BUG (planted): "a plain function that returns an `asyncio.Task` or `Future` ... (even one
already done: awaiting it gives its result or raises its exception)". emit skips a
Future/Task whose ``done()`` is already True (nothing left to wait for), so the exception
stored in it never comes out of emit and the listeners after it run.
"""

from __future__ import annotations

import asyncio
import bisect
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


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
            if asyncio.isfuture(result) and result.done():
                continue  # already finished: nothing to wait for
            if inspect.isawaitable(result):
                await result
        return None
