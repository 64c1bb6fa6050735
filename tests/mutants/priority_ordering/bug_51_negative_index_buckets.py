"""Bug: buckets live in a list indexed by priority, so a negative priority wraps around to a bucket counted from the top.

Breaks: "Any int is a priority too (EventPriority is an IntEnum): 10 runs before HIGHEST, -5 after LOWEST."
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class _Event:
    """One event: bucket i holds the handlers of priority i, in registration order."""

    def __init__(self) -> None:
        self.buckets: list[list[Callable[..., Any]]] = [[] for _ in EventPriority]

    def add(self, handler: Callable[..., Any], priority: int) -> None:
        while priority >= len(self.buckets):
            self.buckets.append([])
        self.buckets[priority].append(handler)

    def remove(self, handler: Callable[..., Any]) -> None:
        self.buckets = [[h for h in bucket if h != handler] for bucket in self.buckets]

    def ordered(self) -> list[Callable[..., Any]]:
        return [h for bucket in reversed(self.buckets) for h in bucket]


class PriorityEmitter:
    """A list of buckets per event, walked from the highest index down."""

    def __init__(self) -> None:
        self._events: dict[str, _Event] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._events.setdefault(event, _Event()).add(handler, int(priority))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``."""
        if event in self._events:
            self._events[event].remove(handler)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        record = self._events.get(event)
        if record is None:
            return
        for handler in record.ordered():
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
