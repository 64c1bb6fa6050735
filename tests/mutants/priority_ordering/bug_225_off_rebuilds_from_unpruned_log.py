"""Breaks: "After `off`, nothing of that handler is left on that event" (rule 5). `off` rebuilds
the event's order from a log of every registration, filtering out the handler, but never
removes it from the log: the next `off` on that event rebuilds from the log again and brings
back every handler removed before. First off fine; a second off resurrects the first one.
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
        # every registration, in order: off rebuilds an event's tuple from it
        self._log: list[tuple[str, Entry]] = []
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
        entry: Entry = (-level, next(self._ticket), handler)
        self._log.append((event, entry))
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
        if not any(entry[2] == handler for entry in current):
            return
        kept = tuple(sorted(
            (entry for name, entry in self._log if name == event and not entry[2] == handler),
            key=_rank,
        ))
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
