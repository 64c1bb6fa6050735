"""BUG: off "fails loudly": removing a handler that is not registered on the event
(or an event nobody listens to) raises LookupError instead of doing nothing.

Violates rule 5: "Removing a handler or event that is not there does nothing."

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
        entries = self._listeners.get(event, [])
        kept = [e for e in entries if e[2] != handler]
        if len(kept) == len(entries):
            raise LookupError(f"{handler!r} is not registered for {event!r}")
        self._listeners[event] = kept

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for _, _, handler in sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1])):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
