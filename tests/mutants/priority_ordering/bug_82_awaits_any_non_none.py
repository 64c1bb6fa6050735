"""Bug: emit awaits whatever a listener returns unless it is None, so a plain listener that returns an ordinary value (a number, a dict, True) makes emit raise TypeError.

Breaks: "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts." (a non-awaitable return value is not awaited).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Priority buckets per event; async listeners return something, sync ones return None."""

    def __init__(self) -> None:
        self._events: dict[str, dict[int, list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._events.setdefault(event, {}).setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        for prio, bucket in list(self._events.get(event, {}).items()):
            self._events[event][prio] = [h for h in bucket if h != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        buckets = self._events.get(event, {})
        snapshot = [h for prio in sorted(buckets, reverse=True) for h in buckets[prio]]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if result is not None:
                # an async def, a Task, a Future... anything it hands back is awaited
                await result
