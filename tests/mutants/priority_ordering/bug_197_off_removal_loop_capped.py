"""Bug: `off` stops after removing 8 registrations of the handler, so a handler registered more than 8 times on an event keeps the rest.

Breaks: "`off(event, handler)` removes all of its registrations on that event" and "After `off`, nothing of that handler is left on that event" ... Register the same handler 10 times on "e", call `off("e", handler)`, then `emit("e")`: it still runs twice instead of not at all.
"""

from __future__ import annotations

import inspect
from bisect import insort
from collections.abc import Callable
from itertools import count
from typing import Any

from day25 import EventPriority

# Guard against a handler whose __eq__ misbehaves and keeps matching: nobody
# registers one handler more than a handful of times on a single event.
_MAX_REMOVALS = 8


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> list of (sort key, handler), kept sorted by the key;
        # the key is (-priority, registration number).
        self._listeners: dict[str, list[tuple[tuple[int, int], Callable[..., Any]]]] = {}
        self._tickets = count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entries = self._listeners.setdefault(event, [])
        insort(entries, ((-int(priority), next(self._tickets)), handler), key=lambda e: e[0])
        return handler

    @staticmethod
    def _find(entries: list[tuple[tuple[int, int], Callable[..., Any]]],
              handler: Callable[..., Any]) -> int | None:
        for index, (_, registered) in enumerate(entries):
            if registered == handler:
                return index
        return None

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if not entries:
            return
        removed = 0
        while removed < _MAX_REMOVALS:
            index = self._find(entries, handler)
            if index is None:
                break
            del entries[index]
            removed += 1
        if not entries:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = [handler for _, handler in self._listeners.get(event, ())]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
