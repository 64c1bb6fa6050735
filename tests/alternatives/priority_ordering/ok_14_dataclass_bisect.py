"""Correct, advanced-Python style (written 2026-11-30 for the review's false-positive count, checked by `day25 check`, 25/25 from the hidden suites before it was kept): priority_ordering with a frozen, ordered dataclass kept sorted by ``bisect.insort``.
"""

from __future__ import annotations

import bisect
import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority


@dataclass(frozen=True, order=True, slots=True)
class Registration:
    """One ``on``: sorts by (-priority, registration number); the handler is not compared."""

    rank: int
    number: int
    handler: Callable[..., Any] = field(compare=False)
    priority: int = field(compare=False, default=0)

    def __post_init__(self) -> None:
        # rank is derived from the priority: bigger priority, smaller rank, earlier run
        object.__setattr__(self, "rank", -int(self.priority))

    @classmethod
    def of(cls, handler: Callable[..., Any], priority: int, number: int) -> Registration:
        return cls(0, number, handler, int(priority))


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    __slots__ = ("_listeners", "_counter")

    def __init__(self) -> None:
        self._listeners: dict[str, list[Registration]] = {}
        self._counter = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entry = Registration.of(handler, priority, next(self._counter))
        bisect.insort(self._listeners.setdefault(event, []), entry)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if entries:
            entries[:] = [e for e in entries if e.handler != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for entry in tuple(self._listeners.get(event, ())):
            result = entry.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
