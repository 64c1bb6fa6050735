"""Bug: the sorted list of priority levels is one list for the whole emitter, and `off` drops a level from it as soon as that level's bucket of *this* event is empty, so other events' listeners at that level are no longer reached by `emit`.

Breaks: "`off(event, handler)` removes all of its registrations on that event, and no other handler" ... `on("x", a, HIGH)`, `on("y", b, HIGH)`, `off("x", a)`, `emit("y")` runs nothing instead of `b`, and `on("y", c, HIGH)` does not bring the level back.
"""

from __future__ import annotations

import bisect
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._levels: list[int] = []  # negated priorities in use, ascending = highest first
        self._buckets: dict[tuple[str, int], list[Callable[..., Any]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        level = -int(priority)
        key = (event, level)
        if key not in self._buckets:
            self._buckets[key] = []
            index = bisect.bisect_left(self._levels, level)
            if index == len(self._levels) or self._levels[index] != level:
                self._levels.insert(index, level)
        # a new list, so an emit that already took the old one keeps it
        self._buckets[key] = self._buckets[key] + [handler]
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        for level in list(self._levels):
            key = (event, level)
            bucket = self._buckets.get(key)
            if bucket is None:
                continue
            kept = [h for h in bucket if not h == handler]
            if kept:
                self._buckets[key] = kept
            else:
                del self._buckets[key]
                self._levels.remove(level)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        calls = [h for level in self._levels for h in self._buckets.get((event, level), ())]
        for handler in calls:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
