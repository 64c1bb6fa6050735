"""Exercise 1: priority_ordering.

Per event, a dict from priority number to the list of handlers of that
priority (appended in registration order), plus the priorities kept sorted
high to low with ``bisect.insort``. ``emit`` flattens the buckets into a tuple
before it awaits anything; ``off`` filters each bucket with ``!=`` and drops
buckets that end up empty.
"""

from __future__ import annotations

import bisect
import inspect
import operator
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

Handler = Callable[..., Any]


class _EventTable:
    """The listeners of one event, bucketed by priority."""

    __slots__ = ("buckets", "keys")

    def __init__(self) -> None:
        self.buckets: dict[int, list[Handler]] = {}
        self.keys: list[int] = []  # negated priorities, ascending = high to low

    def add(self, handler: Handler, priority: int) -> None:
        bucket = self.buckets.get(priority)
        if bucket is None:
            bucket = self.buckets[priority] = []
            bisect.insort(self.keys, -priority)
        bucket.append(handler)

    def remove(self, handler: Handler) -> None:
        for priority in list(self.buckets):
            left = [h for h in self.buckets[priority] if not h == handler]
            if left:
                self.buckets[priority] = left
            else:
                del self.buckets[priority]
                self.keys.remove(-priority)

    def ordered(self) -> tuple[Handler, ...]:
        return tuple(h for key in self.keys for h in self.buckets[-key])

    def __bool__(self) -> bool:
        return bool(self.buckets)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._events: dict[str, _EventTable] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        level = operator.index(priority)  # the number, whatever enum it comes from
        self._events.setdefault(event, _EventTable()).add(handler, level)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        table = self._events.get(event)
        if table is None:
            return
        table.remove(handler)
        if not table:
            del self._events[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        table = self._events.get(event)
        snapshot = table.ordered() if table is not None else ()
        for handler in snapshot:
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
