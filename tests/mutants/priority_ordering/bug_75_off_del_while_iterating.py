"""Bug: off deletes from a priority bucket while enumerating it, so of two registrations of the same handler next to each other in one bucket the second survives.

Breaks: "off(event, handler) removes all of its registrations on that event" (rule 5): on twice with the same priority, then off, and the handler still runs once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """event -> {priority: [handlers in registration order]}."""

    def __init__(self) -> None:
        self._buckets: dict[str, dict[int, list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        levels = self._buckets.setdefault(event, {})
        levels.setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        levels = self._buckets.get(event, {})
        for bucket in levels.values():
            for index, existing in enumerate(bucket):
                if existing == handler:
                    del bucket[index]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        levels = self._buckets.get(event, {})
        plan = [handler for level in sorted(levels, reverse=True) for handler in levels[level]]
        for handler in plan:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
