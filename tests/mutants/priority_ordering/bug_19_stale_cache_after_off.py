"""BUG: caches the sorted listener list per event; ``on`` clears the cache but
``off`` forgets to, so once an event has been emitted, off has no effect on it
until the next on() for that event.

Violates rule 5: "`off(event, handler)` removes all of its registrations on that
event".

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
        self._sorted: dict[str, list[Callable[..., Any]]] = {}  # cache: event -> call order
        self._order = itertools.count()

    def on(self, event: str, handler: Callable[..., Any],
           priority: EventPriority = EventPriority.MEDIUM) -> Callable[..., Any]:
        self._listeners.setdefault(event, []).append((int(priority), next(self._order), handler))
        self._sorted.pop(event, None)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if entries:
            entries[:] = [e for e in entries if e[2] != handler]

    def _call_order(self, event: str) -> list[Callable[..., Any]]:
        if event not in self._sorted:
            entries = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
            self._sorted[event] = [handler for _, _, handler in entries]
        return self._sorted[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for handler in list(self._call_order(event)):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
