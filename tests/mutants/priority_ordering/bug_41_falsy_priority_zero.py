"""Bug: priority 0 (LOWEST) is falsy, so "priority or MEDIUM" turns LOWEST into MEDIUM.

Breaks: "a bigger priority runs earlier: HIGHEST, HIGH, MEDIUM, LOW, LOWEST. The default priority is MEDIUM."
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Listeners kept per event as (priority, registration number, handler)."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._counter = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int | None = None,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        # no priority given: use the default one
        level = int(priority or EventPriority.MEDIUM)
        self._listeners.setdefault(event, []).append((level, next(self._counter), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``."""
        entries = self._listeners.get(event)
        if not entries:
            return
        kept = [entry for entry in entries if entry[2] != handler]
        if kept:
            self._listeners[event] = kept
        else:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        for _level, _number, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
