"""Exercise 1: priority_ordering. on() refuses priorities below LOWEST as out of range.

BUG (planted): "`-5` after `LOWEST`". on() validates the priority and raises
ValueError for any int below EventPriority.LOWEST (0), so on("e", f, -5) fails instead of
registering a listener that runs after the LOWEST ones. Shows whenever a negative
priority is passed.
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
        # event -> list of (priority, registration number, handler), kept sorted
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._counter = itertools.count()

    @staticmethod
    def _check_priority(priority: int) -> int:
        # LOWEST is the bottom of the scale: anything under it is a caller's mistake
        value = int(priority)
        if value < EventPriority.LOWEST:
            raise ValueError(
                f"priority {priority!r} is below EventPriority.LOWEST ({int(EventPriority.LOWEST)})"
            )
        return value

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        value = self._check_priority(priority)
        entries = self._listeners.setdefault(event, [])
        entries.append((value, next(self._counter), handler))
        entries.sort(key=lambda entry: (-entry[0], entry[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if entries is None:
            return
        kept = [entry for entry in entries if not entry[2] == handler]
        if kept:
            self._listeners[event] = kept
        else:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = list(self._listeners.get(event, ()))
        for _priority, _number, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
