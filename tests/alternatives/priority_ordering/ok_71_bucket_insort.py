"""Exercise 1: priority_ordering.

Design: per event, one list kept in running order at all times. ``on`` inserts
with ``bisect.insort_right`` keyed on the negated priority, so a new registration
lands after every one of its priority already there; ``off`` and ``on`` never
change a list in place but store a new one, so ``emit`` can hold the list it
found as its snapshot (a tuple copy, taken before its first ``await``).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable
from typing import Any, NamedTuple

from day25 import EventPriority


class _Listener(NamedTuple):
    rank: int  # the priority, negated: a smaller rank runs earlier
    handler: Callable[..., Any]


def _awaitable(value: Any) -> bool:
    """Like ``inspect.isawaitable``: an object with ``__await__``, or a generator made by
    ``@types.coroutine`` (its code carries the CO_ITERABLE_COROUTINE flag, 0x100)."""
    if hasattr(type(value), "__await__"):
        return True
    code = getattr(value, "gi_code", None)
    return code is not None and bool(code.co_flags & 0x100)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._by_event: defaultdict[str, list[_Listener]] = defaultdict(list)

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        updated = list(self._by_event[event])
        bisect.insort_right(updated, _Listener(-int(priority), handler), key=lambda li: li.rank)
        self._by_event[event] = updated
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._by_event:
            return
        remaining = []
        for listener in self._by_event[event]:
            if listener.handler == handler:
                continue
            remaining.append(listener)
        self._by_event[event] = remaining

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        if event not in self._by_event:
            return
        snapshot = tuple(self._by_event[event])
        for listener in snapshot:
            outcome = listener.handler(*args, **kwargs)
            if _awaitable(outcome):
                await outcome
