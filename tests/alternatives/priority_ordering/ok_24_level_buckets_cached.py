"""Correct solution, style: per-event priority buckets (deques) with a bisect-sorted level list and a cached, immutable order tuple.

Follows: "A priority is its number, however it is spelled: 2, EventPriority.MEDIUM,
EventPriority.NORMAL and the default are one priority, so their listeners tie" (buckets
are keyed by int(priority)); "Any int is a priority too ... however large" (only the
levels in use are kept, sorted with bisect); "an emit works on a snapshot of the
listeners taken when it starts" (the cached tuple is immutable and rebuilt after every
on/off); "After off, nothing of that handler is left on that event: on again is a new
registration"; "emit calls one listener at a time".
"""

from __future__ import annotations

import bisect
import inspect
from collections import deque
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class _EventListeners:
    """The listeners of one event: a bucket per priority level, levels kept ascending."""

    def __init__(self) -> None:
        self.levels: list[int] = []
        self.buckets: dict[int, deque[Callable[..., Any]]] = {}
        self._order: tuple[Callable[..., Any], ...] | None = None

    def add(self, handler: Callable[..., Any], level: int) -> None:
        bucket = self.buckets.get(level)
        if bucket is None:
            bucket = self.buckets[level] = deque()
            bisect.insort(self.levels, level)
        bucket.append(handler)
        self._order = None

    def discard(self, handler: Callable[..., Any]) -> None:
        for level in list(self.levels):
            bucket = self.buckets[level]
            kept = deque(h for h in bucket if not h == handler)
            if len(kept) == len(bucket):
                continue
            if kept:
                self.buckets[level] = kept
            else:
                del self.buckets[level]
                self.levels.remove(level)
        self._order = None

    def __bool__(self) -> bool:
        return bool(self.levels)

    def order(self) -> tuple[Callable[..., Any], ...]:
        if self._order is None:
            self._order = tuple(
                handler
                for level in reversed(self.levels)
                for handler in self.buckets[level]
            )
        return self._order


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with buckets per priority level."""

    def __init__(self) -> None:
        self._events: dict[str, _EventListeners] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        listeners = self._events.get(event)
        if listeners is None:
            listeners = self._events[event] = _EventListeners()
        listeners.add(handler, int(priority))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        listeners = self._events.get(event)
        if listeners is None:
            return
        listeners.discard(handler)
        if not listeners:
            del self._events[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        listeners = self._events.get(event)
        if listeners is None:
            return
        for handler in listeners.order():
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
