"""Exercise 1: priority_ordering.

Each registration is a small frozen record (priority, serial number, handler) kept in an
unsorted per-event list; the order is decided when an emit starts, by sorting a copy of that
list on (-priority, serial), which gives ties their registration order. off rebuilds the
list without the entries whose handler == the given one. emit takes that sorted copy before
its first await, then calls the handlers one by one and awaits whatever comes back that is
awaitable, exactly once.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority


@dataclass(frozen=True, eq=False)
class _Registration:
    priority: int
    serial: int
    handler: Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._by_event: dict[str, list[_Registration]] = {}
        self._serial = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._serial += 1
        record = _Registration(operator.index(priority), self._serial, handler)
        self._by_event.setdefault(event, []).append(record)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        records = self._by_event.get(event)
        if not records:
            return
        self._by_event[event] = [r for r in records if not (r.handler == handler)]

    def _ordered(self, event: str) -> list[Callable[..., Any]]:
        records = sorted(self._by_event.get(event, ()), key=lambda r: (-r.priority, r.serial))
        return [r.handler for r in records]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for handler in self._ordered(event):
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
