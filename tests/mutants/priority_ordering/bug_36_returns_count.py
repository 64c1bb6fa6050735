"""BUG: emit returns how many listeners it called (like the bus's
``EmitResult.ran``) instead of None.

Violates rule 9: "**Return value**: `await emit(...)` returns `None`."
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

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> int:
        ordered = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        for _, _, handler in ordered:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return len(ordered)
