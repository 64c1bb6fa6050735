"""Exercise 1: priority_ordering. Buckets per event: a dict from priority (a plain int)
to the list of handlers of that priority in registration order; ``emit`` flattens the
buckets, highest priority first, into a fresh tuple before it calls anything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from inspect import isawaitable
from typing import Any

from day25 import EventPriority

Handler = Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> priority -> handlers in registration order
        self._buckets: defaultdict[str, dict[int, list[Handler]]] = defaultdict(dict)

    def on(
        self,
        event: str,
        handler: Handler,
        priority: int = EventPriority.MEDIUM,
    ) -> Handler:
        """Call ``handler`` on every ``event``; return ``handler``."""
        level = int(priority)  # Tier.HIGH, EventPriority.NORMAL, 2: all by number
        self._buckets[event].setdefault(level, []).append(handler)
        return handler

    def off(self, event: str, handler: Handler) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        buckets = self._buckets.get(event)
        if not buckets:
            return
        for level in list(buckets):
            remaining = [h for h in buckets[level] if not (h == handler)]
            if remaining:
                buckets[level] = remaining
            else:
                del buckets[level]
        if not buckets:
            del self._buckets[event]

    def _ordered(self, event: str) -> tuple[Handler, ...]:
        buckets = self._buckets.get(event)
        if not buckets:
            return ()
        return tuple(h for level in sorted(buckets, reverse=True) for h in buckets[level])

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for handler in self._ordered(event):  # snapshot, taken before any await
            outcome = handler(*args, **kwargs)
            if isawaitable(outcome):
                await outcome
