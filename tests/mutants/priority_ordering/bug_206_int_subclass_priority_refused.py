"""Bug: only a plain int or an EventPriority member is accepted as a priority; any other int (another IntEnum's member, an int subclass) is refused with a TypeError.

Breaks: "Any `int` is a priority too (`EventPriority` is an `IntEnum`)" ... "A priority is its number, however it is spelled" (only bools are left open). With class Tier(IntEnum): TOP = 9, on("e", h, Tier.TOP) must register h to run before HIGHEST; here on() raises TypeError and h never runs.
"""

from __future__ import annotations

import bisect
import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority


def _level(priority: Any) -> int:
    """The number to sort by: an EventPriority member, or a plain int like 10 or -5.

    ``type(...) is int`` keeps bools out, as ``day25.coerce_priority`` does.
    """
    if isinstance(priority, EventPriority):
        return int(priority)
    if type(priority) is int:
        return priority
    raise TypeError(f"priority must be an EventPriority or an int, not {priority!r}")


@dataclass(frozen=True)
class _Registration:
    key: tuple[int, int]
    handler: Callable[..., Any] = field(compare=False)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._table: dict[str, list[_Registration]] = {}
        self._numbers = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        registration = _Registration((-_level(priority), next(self._numbers)), handler)
        rows = self._table.setdefault(event, [])
        bisect.insort(rows, registration, key=lambda r: r.key)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        rows = self._table.get(event)
        if rows is None:
            return
        kept = [r for r in rows if not r.handler == handler]
        if kept:
            self._table[event] = kept
        else:
            del self._table[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for registration in tuple(self._table.get(event, ())):
            outcome = registration.handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
