"""BUG: a listener registered without a priority is treated as "no priority" and
runs after every prioritised listener (even after LOW), instead of at MEDIUM.

Violates rule 1: "The default priority is `MEDIUM`." (and the example:
`emitter.on("save", store)  # MEDIUM` must run before the LOW audit).

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
           priority: EventPriority | None = None) -> Callable[..., Any]:
        # no priority given: run after the listeners that asked for one
        level = int(priority) if priority is not None else 0
        self._listeners.setdefault(event, []).append((level, next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if entries:
            entries[:] = [e for e in entries if e[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for _level, _order, handler in sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1])):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
