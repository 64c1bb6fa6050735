"""OK variant (style: keep each event's list sorted at registration with
bisect.insort on a (-priority, sequence) key; emit iterates a tuple snapshot).

A dataclass(order=True) entry compares by (rank, seq) only, never by handler.

Updated for the re-specified text: off now compares with ``==`` (rule 6); the
earlier version used ``is`` and would fail rule 6 (bound methods).
"""

from __future__ import annotations

import bisect
import inspect
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority


@dataclass(order=True, frozen=True)
class _Entry:
    rank: int  # -priority: smaller runs first
    seq: int
    handler: Callable[..., Any] = field(compare=False)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._by_event: defaultdict[str, list[_Entry]] = defaultdict(list)
        self._seq = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: EventPriority = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._seq += 1
        bisect.insort(self._by_event[event], _Entry(-int(priority), self._seq, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        if event not in self._by_event:
            return
        kept = [e for e in self._by_event[event] if e.handler != handler]
        if kept:
            self._by_event[event] = kept
        else:
            del self._by_event[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        snapshot = tuple(self._by_event.get(event, ()))
        for entry in snapshot:
            outcome = entry.handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
