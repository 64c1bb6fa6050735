"""Exercise 1: priority_ordering. A priority emitter built on buckets.

Each event maps a priority number to the handlers registered at it, in
registration order (a list, so one handler registered twice is there twice).
``emit`` flattens the buckets, biggest priority first, into one tuple right away
(the snapshot), then calls the listeners one by one, awaiting any awaitable a
listener returns exactly once before moving on.
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
        # event -> {priority number -> [handler, ...] in registration order}
        self._buckets: dict[str, dict[int, list[Handler]]] = {}

    def on(
        self,
        event: str,
        handler: Handler,
        priority: int = EventPriority.MEDIUM,
    ) -> Handler:
        """Call ``handler`` on every ``event``; return ``handler``."""
        level = int(priority)  # 2, MEDIUM, NORMAL and the default share one bucket
        self._buckets.setdefault(event, {}).setdefault(level, []).append(handler)
        return handler

    def off(self, event: str, handler: Handler) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        levels = self._buckets.get(event)
        if levels is None:
            return
        for level in list(levels):
            remaining = [h for h in levels[level] if not h == handler]
            if remaining:
                levels[level] = remaining
            else:
                del levels[level]
        if not levels:
            del self._buckets[event]

    def _ordered(self, event: str) -> tuple[Handler, ...]:
        levels = self._buckets.get(event, {})
        return tuple(
            handler
            for level in sorted(levels, reverse=True)
            for handler in levels[level]
        )

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        listeners = self._ordered(event)  # snapshot: on/off from now on count next time
        for listener in listeners:
            outcome = listener(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
