"""
CORRECT (alternative design): per event, a dict priority -> list of handlers (a "bucket" per
priority, appended in registration order). emit snapshots every bucket at once (biggest
priority first, each bucket copied) before it calls anything. off filters every bucket with
== and drops empty buckets, so `on` again lands at the back of its bucket.
Priorities are stored by their number (`operator.index`), so 2, MEDIUM, NORMAL tie and
enum members of the caller's own go by value.
"""

from __future__ import annotations

import inspect
import operator
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._buckets: defaultdict[str, dict[int, list[Callable[..., Any]]]] = defaultdict(dict)

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        level = operator.index(priority)
        self._buckets[event].setdefault(level, []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        buckets = self._buckets.get(event)
        if buckets is None:
            return
        for level in list(buckets):
            remaining = [h for h in buckets[level] if not h == handler]
            if remaining:
                buckets[level] = remaining
            else:
                del buckets[level]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        buckets = self._buckets.get(event, {})
        snapshot: list[Callable[..., Any]] = []
        for level in sorted(buckets, reverse=True):
            snapshot.extend(buckets[level])
        for listener in snapshot:
            value = listener(*args, **kwargs)
            if inspect.isawaitable(value):
                await value
