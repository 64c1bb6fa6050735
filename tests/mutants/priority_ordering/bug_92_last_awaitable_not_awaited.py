"""Bug: emit awaits the previous listener's awaitable just before calling the next one, and forgets to await the one the last listener returned.

Breaks: "It is awaited to the end before the next listener starts ... emit returns only after the last listener finished."
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Registration tuples per event; emit pipelines the await of each result."""

    def __init__(self) -> None:
        self._table: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._ticket = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._table.setdefault(event, []).append((-int(priority), next(self._ticket), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        rows = self._table.get(event)
        if rows:
            self._table[event] = [row for row in rows if not (row[2] == handler)]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        rows = sorted(self._table.get(event, ()), key=lambda row: row[:2])
        pending: Awaitable[Any] | None = None
        for _key, _ticket, handler in rows:
            if pending is not None:
                await pending
                pending = None
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                pending = result
