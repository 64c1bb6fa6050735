"""Correct: copy-on-write style. Each event maps to an immutable tuple of (negated priority, ticket, handler) rows kept in run order.

Why it is correct: on and off never mutate a tuple, they build a new one and rebind it, so the tuple an emit grabbed when it started is its snapshot (rule 7), and an inner emit grabs whatever tuple is current then (rule 11). Rows are ordered by negated int priority then a per-instance ticket, so bigger priorities run first, ties keep registration order and 2, MEDIUM, NORMAL and the default tie (rules 1, 2); a re-registration gets a fresh ticket (rule 5). off keeps rows whose handler is not == the given one (rules 5, 6). Each result is awaited once if inspect.isawaitable says so; exceptions propagate untouched and no state needs resetting (rules 3, 8); all state lives in the instance (rule 10).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

_Row = tuple[int, int, Callable[..., Any]]


class PriorityEmitter:
    """on / off / await emit over immutable per-event tuples."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[_Row, ...]] = {}
        self._tickets = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._tickets += 1
        row: _Row = (-int(priority), self._tickets, handler)
        rows = self._rows.get(event, ())
        # insert after every row whose key is <= the new key (the new ticket is the largest)
        pos = len(rows)
        while pos > 0 and rows[pos - 1][0] > row[0]:
            pos -= 1
        self._rows[event] = rows[:pos] + (row,) + rows[pos:]
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        rows = self._rows.get(event)
        if not rows:
            return
        kept = tuple(r for r in rows if not (r[2] == handler))
        if kept:
            self._rows[event] = kept
        else:
            del self._rows[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        snapshot = self._rows.get(event, ())
        for _neg, _ticket, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
