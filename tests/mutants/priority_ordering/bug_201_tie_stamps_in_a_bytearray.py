"""Bug: the registration stamps that order ties are kept in a `bytearray`, so the stamp wraps around to 0 after 256 registrations and later listeners sort in among (or before) earlier ones of the same priority.

Breaks: "**Ties**: listeners of the same priority run in the order they were registered." ... Register 300 listeners with the default priority on "e": `emit("e")` runs listener 257 right after listener 1 (both have stamp 0), listener 258 after listener 2, and so on, instead of 1 to 300 in order.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class _Columns:
    """The registrations of one event, one column per field (parallel arrays)."""

    __slots__ = ("priorities", "stamps", "handlers")

    def __init__(self) -> None:
        self.priorities: list[int] = []
        self.stamps = bytearray()          # compact registration stamps
        self.handlers: list[Callable[..., Any]] = []

    def keep(self, rows: list[int]) -> None:
        self.priorities = [self.priorities[i] for i in rows]
        self.stamps = bytearray(self.stamps[i] for i in rows)
        self.handlers = [self.handlers[i] for i in rows]

    def run_order(self) -> list[Callable[..., Any]]:
        rows = sorted(range(len(self.handlers)),
                      key=lambda i: (-self.priorities[i], self.stamps[i]))
        return [self.handlers[i] for i in rows]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._events: dict[str, _Columns] = {}
        self._stamp = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        cols = self._events.setdefault(event, _Columns())
        cols.priorities.append(int(priority))
        cols.stamps.append(self._stamp)
        cols.handlers.append(handler)
        self._stamp = (self._stamp + 1) & 0xFF   # a bytearray holds 0..255
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        cols = self._events.get(event)
        if cols is None:
            return
        cols.keep([i for i, h in enumerate(cols.handlers) if not h == handler])

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        cols = self._events.get(event)
        if cols is None:
            return
        for handler in cols.run_order():
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
