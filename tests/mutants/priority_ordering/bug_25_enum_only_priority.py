"""BUG (was amb_01_enum_only_priority.py, decided by the new text): accepts only
``EventPriority`` members as the priority and raises TypeError for a plain int.

Violates rule 1: "Any `int` is a priority too (`EventPriority` is an `IntEnum`):
`10` runs before `HIGHEST`, `-5` after `LOWEST`."
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._order = itertools.count()

    def on(self, event: str, handler: Callable[..., Any],
           priority: EventPriority = EventPriority.MEDIUM) -> Callable[..., Any]:
        if not isinstance(priority, EventPriority):
            raise TypeError(f"priority must be an EventPriority, not {priority!r}")
        self._listeners.setdefault(event, []).append((int(priority), next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if entries:
            entries[:] = [e for e in entries if e[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for _, _, handler in sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1])):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
