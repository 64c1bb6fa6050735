"""Bug: off stores a lazy filter iterator instead of a list, so the first emit after off consumes it and later emits find no listeners.

Breaks: "off(event, handler) removes all of its registrations on that event, and no other handler" (and "Removing a handler or event that is not there does nothing").
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from day25 import EventPriority


class _Entry(NamedTuple):
    priority: int
    seq: int
    handler: Callable[..., Any]


class PriorityEmitter:
    """Immutable-style: each change builds a new sequence of entries for the event."""

    def __init__(self) -> None:
        self._entries: dict[Any, Iterable[_Entry]] = {}
        self._seq = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._seq += 1
        entry = _Entry(int(priority), self._seq, handler)
        self._entries[event] = sorted([*self._entries.get(event, ()), entry],
                                      key=lambda e: (-e.priority, e.seq))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        if event in self._entries:
            self._entries[event] = filter(lambda e: e.handler != handler, self._entries[event])

    async def emit(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        snapshot = tuple(self._entries.get(event, ()))
        for entry in snapshot:
            result = entry.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
