"""Bug: priority buckets are keyed by the priority as a string and sorted as strings, so 10 runs after MEDIUM.

Breaks: "Any int is a priority too (EventPriority is an IntEnum): 10 runs before HIGHEST, -5 after LOWEST."
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Buckets per event: priority label -> handlers in registration order."""

    def __init__(self) -> None:
        # event -> {"2": [h1, h2], "3": [...]}; string labels so 2, MEDIUM and NORMAL
        # share one bucket and the table prints nicely when debugging.
        self._levels: dict[Any, dict[str, list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        label = str(int(priority))
        self._levels.setdefault(event, {}).setdefault(label, []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        levels = self._levels.get(event)
        if not levels:
            return
        for label in list(levels):
            kept = [h for h in levels[label] if h != handler]
            if kept:
                levels[label] = kept
            else:
                del levels[label]

    def describe(self, event: str) -> dict[str, list[str]]:
        return {label: [getattr(h, "__name__", repr(h)) for h in hs]
                for label, hs in self._levels.get(event, {}).items()}

    def _ordered(self, event: str) -> list[Callable[..., Any]]:
        levels = self._levels.get(event, {})
        order: list[Callable[..., Any]] = []
        for label in sorted(levels, reverse=True):
            order.extend(levels[label])
        return order

    async def emit(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        for handler in self._ordered(event):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
