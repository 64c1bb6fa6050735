"""Exercise 1: priority_ordering.

Listeners are kept per event in buckets, one list per priority number
(``{event: {priority: [handler, ...]}}``). Appending to a bucket keeps registration
order for ties for free, and a handler put back after ``off`` lands at the end of its
bucket. ``emit`` flattens the buckets (biggest priority first) into a fresh list before
it calls anything, so that list is the snapshot; it then calls the handlers one by one
and awaits whatever they return that is awaitable, exactly once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

Handler = Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._buckets: dict[str, dict[int, list[Handler]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        # int(): an IntEnum member (ours or the caller's) counts by its number
        by_priority = self._buckets.setdefault(event, {})
        by_priority.setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        by_priority = self._buckets.get(event)
        if not by_priority:
            return
        for level in list(by_priority):
            # a new list: a running emit's snapshot is never touched
            remaining = [h for h in by_priority[level] if not (h == handler)]
            if remaining:
                by_priority[level] = remaining
            else:
                del by_priority[level]
        if not by_priority:
            del self._buckets[event]

    def _in_order(self, event: str) -> list[Handler]:
        by_priority = self._buckets.get(event, {})
        return [h for level in sorted(by_priority, reverse=True) for h in by_priority[level]]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for handler in self._in_order(event):  # snapshot, taken before any await
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
        return None
