"""Bug: off removes only the FIRST registration of the handler in each priority bucket, so a handler registered twice at the same priority survives off.

Breaks rule 5: "off(event, handler) removes all of its registrations on that event" and
"After off, nothing of that handler is left on that event". `if handler in bucket:
bucket.remove(handler)` removes one occurrence per bucket: twice at HIGH and MEDIUM is
removed completely, twice at MEDIUM leaves one registration that keeps running.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit``; a list of handlers per priority bucket."""

    def __init__(self) -> None:
        self._events: dict[str, dict[int, list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        buckets = self._events.setdefault(event, {})
        buckets.setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        buckets = self._events.get(event)
        if buckets is None:
            return
        for priority in list(buckets):
            bucket = buckets[priority]
            if handler in bucket:
                bucket.remove(handler)
            if not bucket:
                del buckets[priority]
        if not buckets:
            del self._events[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        buckets = self._events.get(event, {})
        snapshot = [
            handler
            for priority in sorted(buckets, reverse=True)
            for handler in buckets[priority]
        ]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
