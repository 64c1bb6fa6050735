"""Bug: priority is keyword-only (copied from day25.EventBus), so on(event, handler, 3) raises TypeError.

Breaks: "on(event, handler, priority=EventPriority.MEDIUM) -> handler | registers handler for event and returns it unchanged"
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Buckets per priority number; each bucket keeps registration order."""

    def __init__(self) -> None:
        # event -> {priority number -> [handler, ...] in registration order}
        self._buckets: dict[str, dict[int, list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        *,
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        levels = self._buckets.setdefault(event, {})
        levels.setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        levels = self._buckets.get(event)
        if levels is None:
            return
        for level in list(levels):
            kept = [h for h in levels[level] if h != handler]
            if kept:
                levels[level] = kept
            else:
                del levels[level]

    def _snapshot(self, event: str) -> list[Callable[..., Any]]:
        levels = self._buckets.get(event, {})
        order: list[Callable[..., Any]] = []
        for level in sorted(levels, reverse=True):
            order.extend(levels[level])
        return order

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for handler in self._snapshot(event):
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
