"""Bug: off deletes an emptied priority bucket but leaves its level in the sorted level list, so a later `on` at that priority adds the level twice and its listeners run twice.

Breaks rule 5: "After off, nothing of that handler is left on that event: on again is a
new registration, so it runs once, after the listeners of its priority registered before
it". After on(a, LOW), off(a), on(b, LOW) the level LOW is listed twice, so every emit
runs b (and every later LOW listener) twice.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class _Listeners:
    """The listeners of one event: a bucket per level, and the levels, highest first."""

    def __init__(self) -> None:
        self.levels: list[int] = []
        self.buckets: dict[int, list[Callable[..., Any]]] = {}


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with one bucket per priority level."""

    def __init__(self) -> None:
        self._events: dict[str, _Listeners] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        listeners = self._events.setdefault(event, _Listeners())
        level = int(priority)
        if level not in listeners.buckets:
            listeners.buckets[level] = []
            listeners.levels.append(level)
            listeners.levels.sort(reverse=True)
        listeners.buckets[level].append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        listeners = self._events.get(event)
        if listeners is None:
            return
        for level, bucket in list(listeners.buckets.items()):
            kept = [h for h in bucket if not h == handler]
            if kept:
                listeners.buckets[level] = kept
            else:
                del listeners.buckets[level]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        listeners = self._events.get(event)
        if listeners is None:
            return
        snapshot = [
            handler
            for level in listeners.levels
            for handler in listeners.buckets.get(level, ())
        ]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
