"""Exercise 1: priority_ordering. Priority emitter with forgiving event names.

BUG (planted): rule 10 says "An event is its exact name: `"Save"`, `"save"` and
`" save"` are three events." This version keys every event by
``event.strip().lower()`` ("normalise user-facing names so a stray space or a
capital letter does not silently drop a listener"), merging those three events into one.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from itertools import count
from typing import Any

from day25 import EventPriority


def _normalise(event: str) -> str:
    """Canonical form of an event name: trimmed and case-insensitive."""
    return event.strip().lower()


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._counter = count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._listeners.setdefault(_normalise(event), []).append(
            (int(priority), next(self._counter), handler)
        )
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        key = _normalise(event)
        if key in self._listeners:
            self._listeners[key] = [e for e in self._listeners[key] if not e[2] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(self._listeners.get(_normalise(event), []), key=lambda e: (-e[0], e[1]))
        for _, _, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
