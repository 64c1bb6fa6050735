"""BUG: keeps each event's list sorted in place (``list.sort`` after every on)
and emit iterates that very list object, forgetting to copy it. A listener that
calls ``on`` during an emit changes the list under the running loop: the new
listener is called in this emit if it sorts after the current position, and the
sort can shift an already-called listener forward so that it runs twice.

Violates rule 7: "an emit works on a **snapshot** of the listeners taken when it
starts [...] one added meanwhile does not [run in this emit]."
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
        entries = self._listeners.setdefault(event, [])
        entries.append((int(priority), next(self._order), handler))
        entries.sort(key=lambda e: (-e[0], e[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if entries:
            entries[:] = [e for e in entries if e[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        entries = self._listeners.get(event, [])  # BUG: the live list, not a copy
        i = 0
        while i < len(entries):
            _, _, handler = entries[i]
            i += 1
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
