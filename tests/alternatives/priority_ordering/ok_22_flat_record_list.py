"""Style: one flat per-instance list of records (event, priority, handler) in registration order; emit filters by event and stable-sorts by priority alone.

Why correct: the flat list is in registration order (a re-registration is appended, so it goes to the back
of its priority), and Python's sort is stable, so sorting the event's records by negative int priority
gives bigger priorities first and ties in registration order; any int works and 2 / MEDIUM / NORMAL tie.
emit builds its own new list at its start (a snapshot; on and off during it only change the next emit,
and an inner emit builds its own). off rebuilds the list without the records of that event whose handler
== the given one, so bound methods match and nothing else is touched. emit calls one listener at a time
with exactly its arguments (the event parameter is positional-only), awaits an awaitable result once,
lets the listener's own exception out unchanged, and returns None. No module-level state.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """on / off / await emit over a flat registration log."""

    def __init__(self) -> None:
        self._records: list[tuple[Any, int, Callable[..., Any]]] = []

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._records.append((event, int(priority), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        self._records = [
            record for record in self._records
            if not (record[0] == event and record[2] == handler)
        ]

    def _listeners(self, event: Any) -> list[Callable[..., Any]]:
        mine = [record for record in self._records if record[0] == event]
        mine.sort(key=lambda record: -record[1])
        return [record[2] for record in mine]

    async def emit(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        for listener in self._listeners(event):
            outcome = listener(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
