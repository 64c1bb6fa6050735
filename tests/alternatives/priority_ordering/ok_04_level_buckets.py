"""OK variant (style: per event, a dict priority -> list of handlers, walked with
the levels sorted from high to low; within a level, list order is registration
order). A registry dataclass holds the buckets.

Updated for the re-specified text: off now compares with ``==`` (rule 6); the
earlier version used ``is`` and would fail rule 6 (bound methods). And emit asks
``inspect.isawaitable`` (rule 3): its ``asyncio.iscoroutine`` test said yes to a plain
generator a listener returns (Python 3.11), and awaiting that raised ``TypeError``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority


@dataclass
class _Registry:
    buckets: dict[int, list[Callable[..., Any]]] = field(default_factory=dict)

    def add(self, level: int, handler: Callable[..., Any]) -> None:
        self.buckets.setdefault(level, []).append(handler)

    def remove(self, handler: Callable[..., Any]) -> None:
        for level in list(self.buckets):
            kept = [h for h in self.buckets[level] if h != handler]
            if kept:
                self.buckets[level] = kept
            else:
                del self.buckets[level]

    def ordered(self) -> list[Callable[..., Any]]:
        return [h for level in sorted(self.buckets, reverse=True) for h in self.buckets[level]]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._events: dict[str, _Registry] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: EventPriority = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._events.setdefault(event, _Registry()).add(int(priority), handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        registry = self._events.get(event)
        if registry is not None:
            registry.remove(handler)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        registry = self._events.get(event)
        if registry is None:
            return
        for handler in registry.ordered():
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
