"""BUG (was amb_02_three_levels_only.py, decided by the new text): maps only
HIGH, MEDIUM and LOW to a rank; ``EventPriority.HIGHEST`` / ``LOWEST`` and any
other int raise KeyError in on().

Violates rule 1: "a bigger priority runs earlier: `HIGHEST`, `HIGH`, `MEDIUM`,
`LOW`, `LOWEST` [...] Any `int` is a priority too".
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

_RANK = {EventPriority.HIGH: 0, EventPriority.MEDIUM: 1, EventPriority.LOW: 2}


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._order = itertools.count()

    def on(self, event: str, handler: Callable[..., Any],
           priority: EventPriority = EventPriority.MEDIUM) -> Callable[..., Any]:
        self._listeners.setdefault(event, []).append((_RANK[priority], next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if entries:
            entries[:] = [e for e in entries if e[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for _, _, handler in sorted(self._listeners.get(event, ())):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
