"""Exercise 1: priority_ordering. A small priority emitter.

Design: per event, one list of ``_Entry`` records kept sorted by
``(-priority, sequence)``. ``sequence`` comes from a counter that only grows, so
ties keep registration order and a handler put back after ``off`` goes to the
back of its priority. ``emit`` walks a shallow copy of that list (taken before
its first ``await``), calls one listener at a time and awaits whatever it
returns when that is awaitable (``inspect.isawaitable``).
"""

from __future__ import annotations

import bisect
import inspect
import itertools
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority


@dataclass(frozen=True)
class _Entry:
    """One registration: sorted by ``key``; the handler itself is never compared."""

    key: tuple[int, int]
    handler: Callable[..., Any] = field(compare=False)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event name -> registrations, highest priority first, then oldest first
        self._listeners: dict[str, list[_Entry]] = {}
        self._sequence = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        # operator.index keeps an exact int (an IntEnum member becomes its value)
        number = operator.index(priority)
        entry = _Entry((-number, next(self._sequence)), handler)
        entries = self._listeners.setdefault(event, [])
        bisect.insort(entries, entry, key=lambda e: e.key)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if not entries:
            return
        # equality, not identity: obj.handle is a new bound method at every access
        kept = [entry for entry in entries if not entry.handler == handler]
        if kept:
            self._listeners[event] = kept
        else:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = list(self._listeners.get(event, ()))  # before the first await
        for entry in snapshot:
            result = entry.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
