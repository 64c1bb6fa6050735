"""Bug: registrations are kept in a dict keyed by the handler, so a callable that is not hashable (one that defines eq without hash) makes on raise TypeError.

Breaks: "on(event, handler, priority=EventPriority.MEDIUM) -> handler | registers handler for event and returns it unchanged"
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """event -> {handler -> [(priority, sequence), ...]}; bound methods hash equal, so off works."""

    def __init__(self) -> None:
        self._table: dict[str, dict[Callable[..., Any], list[tuple[int, int]]]] = {}
        self._ticket = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        per_handler = self._table.setdefault(event, {})
        per_handler.setdefault(handler, []).append((int(priority), next(self._ticket)))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        per_handler = self._table.get(event)
        if per_handler is not None:
            per_handler.pop(handler, None)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        calls = [
            (priority, ticket, handler)
            for handler, regs in self._table.get(event, {}).items()
            for priority, ticket in regs
        ]
        calls.sort(key=lambda c: (-c[0], c[1]))
        for _, _, handler in calls:
            got = handler(*args, **kwargs)
            if inspect.isawaitable(got):
                await got
