"""Correct solution: per event, a dict priority -> list of handlers (buckets), flattened at emit time."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._buckets: dict[str, dict[int, list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        by_priority = self._buckets.setdefault(event, {})
        by_priority.setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        by_priority = self._buckets.get(event)
        if not by_priority:
            return
        for level in list(by_priority):
            remaining = [h for h in by_priority[level] if not (h == handler)]
            if remaining:
                by_priority[level] = remaining
            else:
                del by_priority[level]
        if not by_priority:
            del self._buckets[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        by_priority = self._buckets.get(event, {})
        snapshot = [h for level in sorted(by_priority, reverse=True) for h in by_priority[level]]
        for handler in snapshot:
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
