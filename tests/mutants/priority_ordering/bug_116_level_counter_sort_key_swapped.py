"""Bug: each registration gets a number counted per priority level, and emit sorts by ``(number, -priority)`` instead of ``(-priority, number)``, so a later listener of a higher priority runs after earlier listeners of lower priorities.

Breaks: "**Priority**: a bigger priority runs earlier: `HIGHEST`, `HIGH`, `MEDIUM`, `LOW`, `LOWEST`." ... `on("e", h1, HIGH)`, `on("e", h2, HIGH)`, `on("e", m)` then `await emit("e")` calls `h1, m, h2` instead of `h1, h2, m` (h2 is HIGH's 2nd registration, m is MEDIUM's 1st).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

from day25 import EventPriority


class _Entry(NamedTuple):
    priority: int
    number: int  # registration number within its priority level
    handler: Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._entries: dict[str, list[_Entry]] = {}
        self._next_number: dict[tuple[str, int], int] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        level = int(priority)
        number = self._next_number.get((event, level), 0)
        self._next_number[(event, level)] = number + 1
        self._entries.setdefault(event, []).append(_Entry(level, number, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._entries.get(event)
        if entries is not None:
            self._entries[event] = [e for e in entries if not e.handler == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(self._entries.get(event, ()), key=lambda e: (e.number, -e.priority))
        for entry in snapshot:
            result = entry.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
