"""Bug: emit has a separate branch for ``async def`` handlers that calls them with the positional arguments only, while the branch for plain callables passes ``*args, **kwargs``.

Breaks: "each listener gets exactly the positional and keyword arguments given to `emit`, however many and whatever their names" ... ``emit("e", 1, k=3)`` calls a plain listener as ``listener(1, k=3)`` but an ``async def`` listener as ``listener(1)`` (a TypeError if ``k`` is required, a silently lost keyword otherwise).
"""

from __future__ import annotations

import bisect
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._counter = itertools.count()
        # event -> sorted list of ((-priority, seq), handler)
        self._table: dict[str, list[tuple[tuple[int, int], Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        rows = self._table.setdefault(event, [])
        key = (-int(priority), next(self._counter))
        bisect.insort(rows, (key, handler), key=lambda row: row[0])
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        rows = self._table.get(event)
        if rows:
            self._table[event] = [row for row in rows if not row[1] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for _, handler in tuple(self._table.get(event, ())):
            if inspect.iscoroutinefunction(handler):
                await handler(*args)
                continue
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
