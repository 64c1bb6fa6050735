"""Correct, copy-on-write style: each event maps to an immutable, already sorted tuple that on and off replace with a new tuple.

Why it is correct: on builds a new tuple sorted by (minus the int value of the priority, a registration number from one counter), so bigger priorities come first, equal numbers (2, MEDIUM, NORMAL, the default) tie and ties keep registration order; on after off gets a fresh number, so it goes to the back of its priority. off keeps the entries whose handler is not equal (==) to the one given, on that event only, and does nothing for unknown ones. emit reads the tuple once when it starts: later on/off calls replace the tuple, never change it, so that tuple is the snapshot (inner emits read their own). Listeners run one at a time with exactly the given arguments, any awaitable result (inspect.isawaitable) is awaited before the next, exceptions pass through unchanged, and emit returns None.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

_Entry = tuple[int, int, Callable[..., Any]]


class PriorityEmitter:
    """Immutable per-event tuples, swapped on every change."""

    def __init__(self) -> None:
        self._table: dict[Any, tuple[_Entry, ...]] = {}
        self._serial = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._serial += 1
        entry: _Entry = (-int(priority), self._serial, handler)
        current = self._table.get(event, ())
        self._table[event] = tuple(sorted(current + (entry,), key=lambda e: (e[0], e[1])))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        current = self._table.get(event)
        if not current:
            return
        kept = tuple(e for e in current if not (e[2] == handler))
        if kept:
            self._table[event] = kept
        else:
            del self._table[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        snapshot = self._table.get(event, ())
        for _, _, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
