"""Exercise 1: priority_ordering. Records sorted at emit time; every enum priority is first normalised to an EventPriority member so the stored level is always a member.

BUG (planted): the page says "It goes by its number, not its name, even when it is named
like a level: `Tier.HIGH = 7` is `7`, not `EventPriority.HIGH`." This version maps any enum
member to `EventPriority[member.name]` when such a name exists (the student wanted a
priority enum from another library, with the same level names, to mean the same level), so
`Tier.HIGH = 7` is treated as `EventPriority.HIGH` (3) and runs after `HIGHEST` instead of
before it.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from day25 import EventPriority

_sequence_numbers = count()


def _normalise(priority: int) -> int:
    """An int, or the EventPriority member a same-named enum level stands for."""
    if isinstance(priority, enum.Enum) and not isinstance(priority, EventPriority):
        try:
            return EventPriority[priority.name]
        except KeyError:
            return int(priority)
    return int(priority)


@dataclass
class _Listener:
    handler: Callable[..., Any]
    level: int
    order: int = field(default_factory=lambda: next(_sequence_numbers))


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._by_event: dict[str, list[_Listener]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._by_event.setdefault(event, []).append(_Listener(handler, _normalise(priority)))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event in self._by_event:
            self._by_event[event] = [
                item for item in self._by_event[event] if not item.handler == handler
            ]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        ordered = sorted(self._by_event.get(event, []), key=lambda item: (-item.level, item.order))
        for item in ordered:
            returned = item.handler(*args, **kwargs)
            if inspect.isawaitable(returned):
                await returned
