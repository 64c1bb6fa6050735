"""Style: every registration is a row of a private in-memory sqlite3 table, ordered by SQL (`ORDER BY priority COLLATE BIGINT DESC, id`) with a custom collation that compares priorities as Python ints, however large.

Follows: "a bigger priority runs earlier" and "`2**53 + 1` before `2**53`, however large" (priorities are stored as hex text and compared by the collation as exact ints, so `2`, `MEDIUM` and `NORMAL` are one priority); "listeners of the same priority run in the order they were registered" (the AUTOINCREMENT id, never reused, breaks ties, so `on` after `off` goes to the back); "`off(event, handler)` removes all of its registrations on that event, and no other handler" / "`off` compares handlers with `==`, not `is`" (rows of that event whose handler `== handler` are deleted; unknown ones do nothing); "an emit works on a **snapshot** of the listeners taken when it starts" (the query result is a list read before the first call); "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts" and "It is awaited once"; "each listener gets exactly the positional and keyword arguments given to `emit`"; "its exception comes out of `emit` at once" (no try/except); "`await emit(...)` returns `None`"; "An event is its exact name" and "a new `PriorityEmitter` holds nothing of another one's" (each emitter opens its own `:memory:` database and maps event names to ids in Python, exactly).
"""

from __future__ import annotations

import inspect
import sqlite3
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _compare_priorities(left: str, right: str) -> int:
    a, b = int(left, 16), int(right, 16)
    return (a > b) - (a < b)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._db = sqlite3.connect(":memory:")
        self._db.create_collation("BIGINT", _compare_priorities)
        self._db.execute(
            "CREATE TABLE registration ("
            " id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " event INTEGER NOT NULL,"
            " priority TEXT NOT NULL)"
        )
        self._event_ids: dict[str, int] = {}
        self._handlers: dict[int, Callable[..., Any]] = {}

    def _event_id(self, event: str, create: bool) -> int | None:
        if event not in self._event_ids and create:
            self._event_ids[event] = len(self._event_ids)
        return self._event_ids.get(event)

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        event_id = self._event_id(event, create=True)
        cursor = self._db.execute(
            "INSERT INTO registration (event, priority) VALUES (?, ?)",
            (event_id, format(int(priority), "x")),
        )
        self._handlers[cursor.lastrowid] = handler
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        event_id = self._event_id(event, create=False)
        if event_id is None:
            return
        rows = self._db.execute("SELECT id FROM registration WHERE event = ?", (event_id,))
        gone = [(row_id,) for (row_id,) in rows.fetchall() if self._handlers[row_id] == handler]
        self._db.executemany("DELETE FROM registration WHERE id = ?", gone)
        for (row_id,) in gone:
            del self._handlers[row_id]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        event_id = self._event_id(event, create=False)
        if event_id is None:
            return
        rows = self._db.execute(
            "SELECT id FROM registration WHERE event = ?"
            " ORDER BY priority COLLATE BIGINT DESC, id ASC",
            (event_id,),
        ).fetchall()
        snapshot = [self._handlers[row_id] for (row_id,) in rows]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
