"""Exercise 1: priority_ordering. on() refuses a priority below LOWEST.

BUG (planted): "Any `int` is a priority too ... `-5` after `LOWEST`". on() validates
the priority and raises ValueError for any int below EventPriority.LOWEST (0), so a
negative priority such as -5 cannot be registered at all; it shows as soon as a
caller passes a negative int (the checks only use 0 and up).
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
        self._counter = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        if not isinstance(priority, int):
            raise TypeError(f"priority must be an int or EventPriority, not {priority!r}")
        if priority < EventPriority.LOWEST:
            raise ValueError(f"priority {priority!r} is below EventPriority.LOWEST")
        entries = self._listeners.setdefault(event, [])
        entries.append((int(priority), next(self._counter), handler))
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
