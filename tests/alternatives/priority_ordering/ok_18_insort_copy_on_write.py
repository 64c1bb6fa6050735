"""Style: one immutable sorted tuple per event, rebuilt with bisect.insort on a key (copy on write).

Correct because: each registration is a frozen dataclass with a sort key of
(minus the priority number, a per-instance registration counter), so a bigger
priority comes first and ties keep registration order; bisect.insort with that
key keeps the tuple sorted. on and off never mutate a tuple in place, they
replace it, so the tuple an emit grabbed when it started is its snapshot. off
keeps only entries whose handler is not == to the given one (bound methods work),
and a later on gets a fresh counter (the back of its priority). emit calls one
listener at a time, awaits anything inspect.isawaitable says is awaitable, lets a
listener's own exception out unchanged, and returns None.
"""

from __future__ import annotations

import bisect
import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority


@dataclass(frozen=True)
class _Registration:
    key: tuple[int, int]
    handler: Callable[..., Any] = field(compare=False)


class PriorityEmitter:
    """on / off / await emit; each event maps to a sorted tuple of registrations."""

    def __init__(self) -> None:
        self._table: dict[str, tuple[_Registration, ...]] = {}
        self._counter = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        reg = _Registration((-int(priority), next(self._counter)), handler)
        entries = list(self._table.get(event, ()))
        bisect.insort(entries, reg, key=lambda r: r.key)
        self._table[event] = tuple(entries)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._table.get(event)
        if entries is None:
            return
        kept = tuple(r for r in entries if not (r.handler == handler))
        if kept:
            self._table[event] = kept
        else:
            del self._table[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        snapshot = self._table.get(event, ())
        for reg in snapshot:
            outcome = reg.handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
