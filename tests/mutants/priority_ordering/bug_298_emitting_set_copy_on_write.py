"""Exercise 1: priority_ordering. Copy-on-write lists: emit walks the stored list, writers copy.

BUG (planted): "an emit works on a **snapshot** of the listeners taken when it starts ... A
listener that calls `on` or `off` while the emit runs changes the *next* emit, not this one"
(and rule 11: an inner emit "is an emit like any other"; two emits may run at the same time).
`on`/`off` copy the list before writing while an emit of the event walks it. The tidy-up turned
the `Counter` of running emits per event into a `set` ("we only ask whether one is running"):
the first emit to end removes the event, so an outer emit still walking the list after an
inner emit of the same event (or the longer of two concurrent ones) sees writes done in place.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority


def _is_awaitable(value: Any) -> bool:
    """``inspect.isawaitable``: ``__await__``, or a generator made by @types.coroutine."""
    if isinstance(value, Awaitable):
        return True
    return isinstance(value, Generator) and bool(value.gi_code.co_flags & 0x100)


@dataclass
class _Listener:
    handler: Callable[..., Any]
    key: tuple[int, int]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._lists: dict[str, list[_Listener]] = {}
        self._emitting: set[str] = set()  # events an emit is walking right now
        self._seq = itertools.count()

    def _writable(self, event: str) -> list[_Listener]:
        """The event's list, ready to change: a fresh copy while an emit walks the old one."""
        current = self._lists.get(event, [])
        if event in self._emitting:
            current = list(current)
        self._lists[event] = current
        return current

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        listener = _Listener(handler, (-int(priority), next(self._seq)))
        bisect.insort(self._writable(event), listener, key=lambda li: li.key)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._lists:
            return
        listeners = self._writable(event)
        listeners[:] = [li for li in listeners if not li.handler == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        listeners = self._lists.get(event, [])  # never changed in place while we walk it
        self._emitting.add(event)
        try:
            for listener in listeners:
                result = listener.handler(*args, **kwargs)
                if _is_awaitable(result):
                    await result
        finally:
            self._emitting.discard(event)
