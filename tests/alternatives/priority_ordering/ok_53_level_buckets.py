"""Style: per event, one bucket (a list) per priority level plus a sorted list of the levels, flattened into a snapshot at emit."""

from __future__ import annotations

import bisect
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> {level: [handler, ...]}: a bucket keeps its handlers in registration order
        self._buckets: dict[str, dict[int, list[Callable[..., Any]]]] = {}
        # event -> the levels in use, negated and ascending (so the biggest level comes first)
        self._levels: dict[str, list[int]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        level = int(priority)
        buckets = self._buckets.setdefault(event, {})
        bucket = buckets.get(level)
        if bucket is None:
            bucket = buckets[level] = []
            bisect.insort(self._levels.setdefault(event, []), -level)
        bucket.append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        buckets = self._buckets.get(event)
        if not buckets:
            return
        for level in list(buckets):
            bucket = buckets[level]
            kept = [h for h in bucket if not h == handler]
            if len(kept) == len(bucket):
                continue
            if kept:
                buckets[level] = kept
            else:
                del buckets[level]
                self._levels[event].remove(-level)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        buckets = self._buckets.get(event)
        if not buckets:
            return None
        # the snapshot: a new flat list, taken before anything is awaited
        snapshot = [h for neg in self._levels[event] for h in buckets[-neg]]
        index = 0
        while index < len(snapshot):
            result = snapshot[index](*args, **kwargs)
            if inspect.isawaitable(result):
                await result
            index += 1
        return None
