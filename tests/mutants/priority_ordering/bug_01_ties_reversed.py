"""BUG: sorts by (priority, registration number) with reverse=True, so HIGH still
runs before LOW but listeners of the SAME priority run newest-first.

Violates rule 2: "Ties: listeners of the same priority run in the order they were
registered."

(Re-checked under the re-specified text: still a bug; off changed from ``is``
to ``==`` so that this stays the only mistake.)
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
        self._listeners.setdefault(event, []).append((int(priority), next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if entries:
            entries[:] = [e for e in entries if e[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        # highest priority first -> sort descending
        ordered = sorted(self._listeners.get(event, ()), key=lambda e: (e[0], e[1]), reverse=True)
        for _priority, _order, handler in ordered:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
