"""Bug: each registration stores the *rank* of its priority among the event's priorities at the time it was registered (its index in a sorted list of levels), and those ranks are not updated when a lower priority is added later, so old registrations keep a rank that now belongs to a different priority.

Breaks: "**Priority**: a bigger priority runs earlier" ... "**Ties**: listeners of the same priority run in the order they were registered." ... `on("e", a)` (MEDIUM, rank 0), `on("e", b, LOW)` (now rank 0 too), `on("e", c)` (MEDIUM, rank 1), `emit("e")` runs `c, a, b` instead of `a, c, b`.
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
    rank: int
    seq: int
    handler: Callable[..., Any]


@dataclass
class _Channel:
    levels: list[int] = field(default_factory=list)  # distinct priorities, ascending
    registrations: tuple[_Registration, ...] = ()

    def rank_of(self, priority: int) -> int:
        index = bisect.bisect_left(self.levels, priority)
        if index == len(self.levels) or self.levels[index] != priority:
            self.levels.insert(index, priority)
        return index


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._channels: dict[str, _Channel] = {}
        self._seq = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        channel = self._channels.setdefault(event, _Channel())
        registration = _Registration(channel.rank_of(int(priority)), next(self._seq), handler)
        channel.registrations = channel.registrations + (registration,)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        channel = self._channels.get(event)
        if channel is None:
            return
        channel.registrations = tuple(
            r for r in channel.registrations if not r.handler == handler
        )

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        channel = self._channels.get(event)
        if channel is None:
            return
        order = sorted(channel.registrations, key=lambda r: (-r.rank, r.seq))
        for registration in order:
            result = registration.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
