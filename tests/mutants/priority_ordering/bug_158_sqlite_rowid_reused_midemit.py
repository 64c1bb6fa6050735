"""Bug: registrations live in an SQLite table whose ``INTEGER PRIMARY KEY`` (no ``AUTOINCREMENT``) hands the id of a just-deleted newest row to the next insert, and the emit looks each handler up by that id only when its turn comes.

Breaks: "A listener that calls `on` or `off` while the emit runs changes the *next* emit, not this one (a listener removed meanwhile still runs in this emit; one added meanwhile does not)." ... with ``on("e", swap, HIGH)`` and ``on("e", victim, LOW)``, where ``swap`` does ``off("e", victim)`` then ``on("e", late, LOW)``, ``emit("e")`` runs ``swap`` then ``late`` (which got ``victim``'s old id) instead of ``swap`` then ``victim``.
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
        self._db.execute("CREATE TABLE listeners (id INTEGER PRIMARY KEY, event TEXT NOT NULL)")
        # id -> (priority, handler); priorities stay in Python (any int, however large).
        # Entries are kept after off: an emit that is running may still need them.
        self._meta: dict[int, tuple[int, Callable[..., Any]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        cursor = self._db.execute("INSERT INTO listeners (event) VALUES (?)", (event,))
        self._meta[cursor.lastrowid] = (int(priority), handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        rows = self._db.execute("SELECT id FROM listeners WHERE event = ?", (event,)).fetchall()
        gone = [(rid,) for (rid,) in rows if self._meta[rid][1] == handler]
        self._db.executemany("DELETE FROM listeners WHERE id = ?", gone)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        rows = self._db.execute(
            "SELECT id FROM listeners WHERE event = ? ORDER BY id", (event,)
        ).fetchall()
        plan = sorted((rid for (rid,) in rows), key=lambda rid: -self._meta[rid][0])
        for rid in plan:
            _priority, handler = self._meta[rid]
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
