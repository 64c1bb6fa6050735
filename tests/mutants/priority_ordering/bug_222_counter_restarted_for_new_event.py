"""Breaks: "Ties: listeners of the same priority run in the order they were registered" (and
"Events are independent"). The ticket counter is restarted whenever an event gets its first
listener, so after a second event is registered, new listeners of an older event get small
tickets and jump ahead of earlier listeners of their priority.
First event fine; wrong once a second event has been registered.
"""

from __future__ import annotations

import bisect
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

Entry = tuple[int, int, Callable[..., Any]]  # (-priority, ticket, handler)


def _rank(entry: Entry) -> tuple[int, int]:
    return entry[0], entry[1]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._table: dict[str, tuple[Entry, ...]] = {}
        self._ticket = itertools.count()
        # event -> the lowest priority registered on it: an `on` at or below it just goes last
        self._floor: dict[str, int] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        level = int(priority)
        if event not in self._table:
            self._ticket = itertools.count()  # a new event: its numbering starts at 0
        entry: Entry = (-level, next(self._ticket), handler)
        current = self._table.get(event, ())
        if not current or level <= self._floor[event]:
            self._table[event] = current + (entry,)
            self._floor[event] = level
        else:
            work = list(current)
            bisect.insort(work, entry, key=_rank)
            self._table[event] = tuple(work)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        current = self._table.get(event)
        if not current:
            return
        kept = tuple(entry for entry in current if not entry[2] == handler)
        if len(kept) == len(current):
            return
        if kept:
            self._table[event] = kept
            self._floor[event] = -kept[-1][0]
        else:
            del self._table[event]
            del self._floor[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        # a tuple is never changed in place: holding it is the snapshot
        listeners = self._table.get(event, ())
        for _neg, _ticket, handler in listeners:
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
