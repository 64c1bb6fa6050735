"""Bug: when a listener returns a Task or Future, emit treats it as "already running on its own", keeps it and awaits all of them only after the last listener was called, so the next listener starts before that Task finished.

Breaks: "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts. So ... a plain function that returns an `asyncio.Task` or `Future` ... are all awaited, however long they take" ... `on("e", lambda: asyncio.create_task(slow()), HIGH)` then `on("e", after)`: `after` runs while `slow` is still sleeping (and if the Task raises, `after` has already run).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._seq = 0
        # event -> list of [-priority, seq, handler]
        self._table: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._seq += 1
        rows = list(self._table.get(event, ()))
        rows.append((-int(priority), self._seq, handler))
        rows.sort(key=lambda row: row[:2])
        self._table[event] = rows
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        rows = self._table.get(event)
        if rows is not None:
            self._table[event] = [row for row in rows if not row[2] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        running: list[asyncio.Future[Any]] = []
        for _neg, _seq, handler in self._table.get(event, ()):
            result = handler(*args, **kwargs)
            if asyncio.isfuture(result):
                # a Task/Future is already scheduled: let it run alongside the
                # others and collect it before emit returns
                running.append(result)
            elif inspect.isawaitable(result):
                await result
        for future in running:
            await future
        return None
