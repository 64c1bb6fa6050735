"""Style: buckets (event -> priority number -> handlers in registration order), walked from the biggest priority down.

Why it is correct: the bucket key is int(priority), so 2, MEDIUM, NORMAL and the default
share one bucket and tie in registration order; any int (10, -5) is just another key, and
the buckets are visited in descending numeric order. on appends to the end of its bucket
(a re-registration after off lands behind the listeners already there) and returns the
handler itself. off rebuilds each bucket without the entries that compare equal with ==
(bound methods included), on that event only, and ignores unknown events and handlers.
emit first flattens the buckets into a new list (the snapshot), then calls one listener at
a time with exactly its arguments, awaiting anything inspect.isawaitable accepts before the
next starts; an exception propagates untouched out of the plain loop, no state is left
behind, so the next emit and nested emits behave normally. It returns None.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with priority buckets."""

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
        for level in list(buckets):
            kept = [h for h in buckets[level] if not h == handler]
            if kept:
                buckets[level] = kept
            else:
                del buckets[level]
        if not buckets:
            del self._events[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        buckets = self._events.get(event)
        if not buckets:
            return None
        snapshot = [h for level in sorted(buckets, reverse=True) for h in buckets[level]]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
