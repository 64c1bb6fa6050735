"""OK variant (style: per-event list of (priority, registration number, handler),
sorted at emit time with a global itertools.count as the tie-breaker).

Snapshot semantics: emit sorts a copy, so on/off during an emit take effect from
the next emit. A listener's exception propagates at once (rule 8).

Updated for the re-specified text: off now compares with ``==`` (rule 6); the
earlier version used ``is`` and would fail rule 6 (bound methods).
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

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: EventPriority = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._listeners.setdefault(event, []).append((int(priority), next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if not entries:
            return
        entries[:] = [entry for entry in entries if entry[2] != handler]
        if not entries:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        ordered = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        for _priority, _order, handler in ordered:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
