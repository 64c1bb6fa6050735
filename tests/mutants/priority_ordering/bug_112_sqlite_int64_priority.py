"""Bug: registrations live in an in-memory ``sqlite3`` table with an INTEGER priority column, so a priority outside SQLite's 64-bit range (``2**63`` and up, or below ``-2**63``) makes ``on`` raise ``OverflowError``.

Breaks: "Any `int` is a priority too (`EventPriority` is an `IntEnum`): `10` runs before `HIGHEST`, `-5` after `LOWEST`, and `2**53 + 1` before `2**53`, however large (an `int`, not a `float`)." ... `on("e", h, 2**64)` raises `OverflowError: Python int too large to convert to SQLite INTEGER` instead of registering `h` to run before every smaller priority.
"""

from __future__ import annotations

import inspect
import sqlite3
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._db = sqlite3.connect(":memory:")
        self._db.execute(
            "CREATE TABLE listener ("
            " id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " event TEXT NOT NULL,"
            " priority INTEGER NOT NULL)"
        )
        self._handlers: dict[int, Callable[..., Any]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        cursor = self._db.execute(
            "INSERT INTO listener (event, priority) VALUES (?, ?)", (event, int(priority))
        )
        self._handlers[cursor.lastrowid] = handler
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        rows = self._db.execute("SELECT id FROM listener WHERE event = ?", (event,)).fetchall()
        gone = [(row_id,) for (row_id,) in rows if self._handlers[row_id] == handler]
        self._db.executemany("DELETE FROM listener WHERE id = ?", gone)
        for (row_id,) in gone:
            del self._handlers[row_id]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        rows = self._db.execute(
            "SELECT id FROM listener WHERE event = ? ORDER BY priority DESC, id ASC", (event,)
        ).fetchall()
        snapshot = [self._handlers[row_id] for (row_id,) in rows]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
