"""Bug: emit walks every integer from the highest to the lowest priority in use, so far-apart priorities (2**53 next to 0) never finish.

Breaks rule 1: "Any int is a priority too (EventPriority is an IntEnum): 10 runs before
HIGHEST, -5 after LOWEST, and 2**53 + 1 before 2**53, however large (an int, not a
float)." The buckets are visited with range(highest, lowest - 1, -1): fine for the five
EventPriority levels, 10 or -5, but a listener at 2**53 next to one at MEDIUM makes the
emit loop over 2**53 empty levels.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit``; one bucket per priority level."""

    def __init__(self) -> None:
        # event -> priority -> handlers in registration order
        self._buckets: dict[str, dict[int, list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        levels = self._buckets.setdefault(event, {})
        levels.setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        levels = self._buckets.get(event)
        if not levels:
            return
        for level, handlers in list(levels.items()):
            kept = [h for h in handlers if not h == handler]
            if kept:
                levels[level] = kept
            else:
                del levels[level]
        if not levels:
            del self._buckets[event]

    def _snapshot(self, event: str) -> list[Callable[..., Any]]:
        levels = self._buckets.get(event)
        if not levels:
            return []
        highest, lowest = max(levels), min(levels)
        return [
            handler
            for level in range(highest, lowest - 1, -1)
            for handler in levels.get(level, ())
        ]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for handler in self._snapshot(event):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
