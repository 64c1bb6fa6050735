"""Exercise 1: priority_ordering. One flat list of registrations (pattern, priority, sequence, handler); emit collects those whose event pattern matches, as the bundled bus does.

BUG (planted): the page says "A `*` in a name is a character, not a wildcard (the bus's
patterns are not part of this exercise): a listener of `"*"` or `"ui:*"` hears only an emit
of that very name." This version selects listeners whose registered name, read as a glob
(`*` for any run of characters), matches the event (the student copied the idea of the bus's
patterns from the lessons), so a listener of `"*"` hears every event and one of `"ui:*"`
hears `"ui:click"`: an exact name and a pattern are confused.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority


def _matches(event: str, name: str) -> bool:
    """Whether ``event`` is ``name`` read as the bus's patterns: ``*`` for any characters."""
    return re.fullmatch(".*".join(map(re.escape, name.split("*"))), event) is not None


@dataclass(eq=False)
class _Registration:
    event: str
    priority: int
    sequence: int
    handler: Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._registrations: list[_Registration] = []
        self._sequence = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._sequence += 1
        self._registrations.append(_Registration(event, int(priority), self._sequence, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        self._registrations = [
            r for r in self._registrations if not (r.event == event and r.handler == handler)
        ]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        matching = [r for r in self._registrations if _matches(event, r.event)]
        matching.sort(key=lambda r: (-r.priority, r.sequence))
        for registration in matching:
            result = registration.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
