"""Exercise 1: priority_ordering.

One list of small registration records per event (handler, priority, a running
sequence number). ``emit`` sorts a copy of that list by (-priority, sequence) at
once, then calls the handlers of that snapshot one at a time, awaiting whatever
a handler returns that ``inspect.isawaitable`` accepts. ``off`` keeps every
record whose handler is not ``==`` to the one given.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority


@dataclass(frozen=True, eq=False)
class _Registration:
    handler: Callable[..., Any]
    priority: int
    seq: int


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[_Registration]] = {}
        self._counter = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        record = _Registration(handler, int(priority), next(self._counter))
        self._listeners.setdefault(event, []).append(record)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        records = self._listeners.get(event)
        if not records:
            return
        kept = [r for r in records if not (r.handler == handler)]
        if kept:
            self._listeners[event] = kept
        else:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(
            self._listeners.get(event, ()), key=lambda r: (-r.priority, r.seq)
        )
        for record in snapshot:
            result = record.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
