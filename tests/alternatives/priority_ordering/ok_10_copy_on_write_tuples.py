"""Style: copy-on-write immutable tuples. on and off never mutate a stored sequence; they
build a new tuple and rebind it, so an emit that grabbed the tuple when it started holds a
true snapshot for free (rule 7), and inner emits grab whatever tuple is current then (rule 11).
bisect with a (negated priority, global sequence) key keeps higher priorities first and ties
in registration order; off filters with != so bound methods match by equality; any
awaitable a listener returns is awaited (inspect.isawaitable) before the next one; exceptions
propagate untouched; emit returns None.
"""

from __future__ import annotations

import bisect
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

_Entry = tuple[int, int, Callable[..., Any]]


class PriorityEmitter:
    """Per event an immutable, already sorted tuple of (negated priority, seq, handler)."""

    def __init__(self) -> None:
        self._table: dict[str, tuple[_Entry, ...]] = {}
        self._seq = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._seq += 1
        entry: _Entry = (-int(priority), self._seq, handler)
        current = self._table.get(event, ())
        keys = [(e[0], e[1]) for e in current]
        at = bisect.bisect_right(keys, (entry[0], entry[1]))
        self._table[event] = current[:at] + (entry,) + current[at:]
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        current = self._table.get(event)
        if current is None:
            return
        remaining = tuple(e for e in current if e[2] != handler)
        if remaining:
            self._table[event] = remaining
        else:
            del self._table[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        snapshot = self._table.get(event, ())
        for _, _, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
