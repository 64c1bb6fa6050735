"""Bug: the listeners of an event are looked up with SQLite's ``LIKE``, which ignores ASCII case and treats ``_`` and ``%`` in the emitted name as wildcards, instead of ``=``.

Breaks: "An event is its exact name: `"Save"`, `"save"` and `" save"` are three events." ... after ``on("save", h)``, ``await emit("Save")`` (or ``emit("s_ve")``, ``emit("%")``) calls ``h`` although nobody listens to that name.
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
        self._db = sqlite3.connect(":memory:", isolation_level=None)
        self._db.execute(
            "CREATE TABLE subscriptions (seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL)"
        )
        self._by_seq: dict[int, tuple[int, Callable[..., Any]]] = {}

    def _seqs(self, event: str) -> list[int]:
        rows = self._db.execute(
            "SELECT seq FROM subscriptions WHERE name LIKE ? ORDER BY seq", (event,)
        )
        return [seq for (seq,) in rows]

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        cursor = self._db.execute("INSERT INTO subscriptions (name) VALUES (?)", (event,))
        self._by_seq[cursor.lastrowid] = (int(priority), handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        for seq in self._seqs(event):
            if self._by_seq[seq][1] == handler:
                self._db.execute("DELETE FROM subscriptions WHERE seq = ?", (seq,))
                del self._by_seq[seq]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        found = [self._by_seq[seq] for seq in self._seqs(event)]
        found.sort(key=lambda entry: -entry[0])  # stable: ties stay in seq order
        for _priority, handler in found:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
