"""Bug: off rebuilds the list through a set difference, which scrambles registration order (and merges equal duplicates).

Breaks: "Ties: listeners of the same priority run in the order they were registered."
(after an off of another handler; also "registering the same handler twice makes it run twice").
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Per event a list of (priority, handler) in registration order; stable sort at emit."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._listeners.setdefault(event, []).append((int(priority), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if not entries:
            return
        removed = {entry for entry in entries if entry[1] == handler}
        self._listeners[event] = list(set(entries) - removed)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        # sorted is stable: equal priorities keep their order in the list
        snapshot = sorted(self._listeners.get(event, []), key=lambda e: e[0], reverse=True)
        for _, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
