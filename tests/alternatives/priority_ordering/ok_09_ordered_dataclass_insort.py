"""Correct: ordered dataclass entries kept sorted with bisect.insort.

Why correct: each entry compares by (negated int priority, global sequence number) only (the
handler field is excluded from comparison), so insort places a new registration after every
entry of the same priority, giving ties in registration order and 2, MEDIUM and the default
one priority; off keeps the entries whose handler is not == the given one (bound methods
work, unknown ones are harmless) into a new list; emit iterates a tuple copy taken when it
starts, one listener at a time, awaits any awaitable result (inspect.isawaitable), lets a
listener's own exception propagate and returns None. Nested emits are plain nested calls.
"""

from __future__ import annotations

import bisect
import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority

_sequence = itertools.count()


@dataclass(order=True, frozen=True)
class _Entry:
    rank: int
    seq: int
    handler: Callable[..., Any] = field(compare=False)


class PriorityEmitter:
    def __init__(self) -> None:
        self._entries: dict[Any, list[_Entry]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        entry = _Entry(-int(priority), next(_sequence), handler)
        bisect.insort(self._entries.setdefault(event, []), entry)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._entries.get(event)
        if entries is not None:
            self._entries[event] = [e for e in entries if e.handler != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for entry in tuple(self._entries.get(event, ())):
            result = entry.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
