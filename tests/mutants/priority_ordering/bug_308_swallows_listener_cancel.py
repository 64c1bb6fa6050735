"""Exercise 1: priority_ordering. A CancelledError from awaiting a listener is skipped unless the emit itself is being cancelled.

BUG (planted): "A `CancelledError` a listener raises is its exception like any other: it
comes out, and the listeners after it do not run." emit catches CancelledError around the
await of what a listener returned and, when its own task is not being cancelled
(``current_task().cancelling() == 0``), treats it as "that listener's work was cancelled"
and goes on: a Task a listener returns that ends cancelled (or an async listener that
raises CancelledError) is skipped, the listeners after it run and emit returns None.
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
            if inspect.isawaitable(result):
                try:
                    await result
                except asyncio.CancelledError:
                    task = asyncio.current_task()
                    if task is not None and task.cancelling():
                        raise  # the emit itself is being cancelled
                    continue  # only that listener's work was cancelled: skip it
        return None
