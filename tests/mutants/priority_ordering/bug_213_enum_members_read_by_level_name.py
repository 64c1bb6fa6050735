"""Bug: an enum member whose name is a level name (HIGH, LOW...) is read by its name, not by its number, as the course bus reads Nexios' members.

Breaks: "A priority is its number, however it is spelled" and "A member of an `IntEnum` of the caller's own (`class Tier(IntEnum): TOP = 9`) is an `int` too, so a priority: `Tier.TOP` is `9`, before `HIGHEST`." ... With `class Tier(IntEnum): HIGH = 7`, `on("e", a, priority=5)` then `on("e", b, priority=Tier.HIGH)` runs a before b: Tier.HIGH is treated as 3 instead of 7.

Carried over from notebooks/03_priority_listeners.ipynb, cells 0 and 16 ("The bus accepts
either enum's members and treats them by name, so HIGH means the same level whichever
enum it comes from"; `priority=NexiosPriority.NORMAL` is MEDIUM).
"""

from __future__ import annotations

import enum
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _level(priority: Any) -> int:
    """The number to sort by. Enum members go by name, like the lesson's bus does,
    so that Nexios' HIGH (value 2) is our HIGH (3); anything else is its int."""
    if isinstance(priority, enum.Enum) and priority.name in EventPriority.__members__:
        return int(EventPriority[priority.name])
    return int(priority)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._counter = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entries = self._listeners.setdefault(event, [])
        entries.append((-_level(priority), next(self._counter), handler))
        entries.sort(key=lambda entry: (entry[0], entry[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if not entries:
            return
        self._listeners[event] = [e for e in entries if not e[2] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = [handler for _, _, handler in self._listeners.get(event, ())]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
