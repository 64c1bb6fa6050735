"""BUG: clamps every priority into the enum's range
(``max(LOWEST, min(HIGHEST, priority))``, "so out-of-range numbers cannot
break the order"): 10 becomes HIGHEST and -5 becomes LOWEST, so they tie with
those levels and run in registration order among them.

Violates rule 1: "Any `int` is a priority too [...]: `10` runs before `HIGHEST`,
`-5` after `LOWEST`."
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
        level = max(int(EventPriority.LOWEST), min(int(EventPriority.HIGHEST), int(priority)))
        self._listeners.setdefault(event, []).append((level, next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if entries:
            entries[:] = [e for e in entries if e[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        ordered = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        for _, _, handler in ordered:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
