"""Breaks: "`off(event, handler)` removes all of its registrations on that event, and no other
handler" / "Removing a handler or event that is not there does nothing". `off` takes the
event's listeners out and puts the others back with `self.on(event, h)`, forgetting their
priority: every survivor comes back at MEDIUM. The first emits are right; after any off
on that event (even of an unknown handler) the remaining listeners lose their priority.
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
        current = self._table.pop(event, ())
        self._floor.pop(event, None)
        for _neg, _ticket, other in current:
            if not other == handler:
                self.on(event, other)  # put the others back, in their order

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        # a tuple is never changed in place: holding it is the snapshot
        listeners = self._table.get(event, ())
        for _neg, _ticket, handler in listeners:
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
