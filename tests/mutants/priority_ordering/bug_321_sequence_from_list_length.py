"""Exercise 1: priority_ordering. The registration number is the list's length.

BUG (planted): "listeners of the same priority run in the order they were registered."
on() numbers a registration with `len(entries)` (its index in the event's list) instead
of a counter that only grows; after off() has shortened the list, a new registration can
get a smaller number than an older one of the same priority and then sorts before it
(on a, b, c; off a; off b; on d: d runs before c).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entries = self._listeners.setdefault(event, [])
        entries.append((int(priority), len(entries), handler))  # its registration index
        entries.sort(key=lambda entry: (-entry[0], entry[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if not entries:
            return
        entries[:] = [entry for entry in entries if not entry[2] == handler]
        if not entries:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = list(self._listeners.get(event, ()))
        for _priority, _seq, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
