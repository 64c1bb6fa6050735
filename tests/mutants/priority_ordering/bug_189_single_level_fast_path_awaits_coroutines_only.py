"""Bug: when every listener of the event shares one priority, emit takes a fast path that awaits only coroutines (``inspect.iscoroutine``), so a returned Task, Future or other awaitable is not awaited there, while the general multi-level path uses the ``inspect.isawaitable`` helper correctly.

Breaks: "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts. So ... a plain function that returns an `asyncio.Task` or `Future` ... are all awaited, however long they take" ... with two MEDIUM listeners, the first returning ``asyncio.create_task(slow())``, the second starts (and emit returns) before ``slow()`` finished; the same listeners with different priorities are awaited properly.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


async def _settle(result: Any) -> None:
    if inspect.isawaitable(result):
        await result


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> priority -> list of (ticket, handler)
        self._buckets: dict[str, dict[int, list[tuple[int, Callable[..., Any]]]]] = {}
        self._ticket = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        buckets = self._buckets.setdefault(event, {})
        buckets.setdefault(int(priority), []).append((next(self._ticket), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        buckets = self._buckets.get(event)
        if not buckets:
            return
        for priority in list(buckets):
            kept = [entry for entry in buckets[priority] if not entry[1] == handler]
            if kept:
                buckets[priority] = kept
            else:
                del buckets[priority]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        buckets = self._buckets.get(event)
        if not buckets:
            return None
        if len(buckets) == 1:
            # fast path: one level, no sorting needed
            (only,) = buckets.values()
            for _, handler in list(only):
                result = handler(*args, **kwargs)
                if inspect.iscoroutine(result):
                    await result
            return None
        snapshot = [(p, list(entries)) for p, entries in buckets.items()]
        snapshot.sort(key=lambda item: item[0], reverse=True)
        for _, entries in snapshot:
            for _, handler in entries:
                await _settle(handler(*args, **kwargs))
        return None
