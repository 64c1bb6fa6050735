"""BUG: emit iterates a sorted copy (so additions mid-emit are not called), but
before each call it checks that the registration is still there and skips it
if a listener removed it meanwhile ("don't call what was turned off").

Violates rule 7: "A listener that calls `on` or `off` while the emit runs changes
the *next* emit, not this one (a listener removed meanwhile still runs in this
emit; one added meanwhile does not)."
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
           priority: int = EventPriority.MEDIUM) -> Callable[..., Any]:
        self._listeners.setdefault(event, []).append((int(priority), next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if entries:
            entries[:] = [e for e in entries if e[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        ordered = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        for entry in ordered:
            if entry not in self._listeners.get(event, ()):
                continue  # removed by an earlier listener of this emit
            result = entry[2](*args, **kwargs)
            if inspect.isawaitable(result):
                await result
