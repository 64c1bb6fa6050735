"""Bug: ``EventPriority`` members go into five fixed level slots while every other priority goes into a side table that emit splits by sign (``>= 0`` before the members, ``< 0`` after), so a plain int inside the members' range, such as ``2``, does not tie with ``MEDIUM`` but runs before ``HIGHEST``.

Breaks: "A priority is its number, however it is spelled: `2`, `EventPriority.MEDIUM`, `EventPriority.NORMAL` and the default are one priority, so their listeners tie (rule 2)." ... ``on("e", a)``, ``on("e", b, 2)``, ``on("e", c, EventPriority.HIGH)`` then ``emit("e")`` runs b, c, a instead of c, a, b.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

_MEMBERS = sorted(EventPriority, reverse=True)  # HIGHEST .. LOWEST


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> ({member: [handlers]}, {other int: [handlers]})
        self._events: dict[str, tuple[dict[int, list[Callable[..., Any]]],
                                      dict[int, list[Callable[..., Any]]]]] = {}

    def _slots(self, event: str) -> tuple[dict[int, list[Callable[..., Any]]],
                                          dict[int, list[Callable[..., Any]]]]:
        if event not in self._events:
            self._events[event] = ({member: [] for member in _MEMBERS}, {})
        return self._events[event]

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        members, others = self._slots(event)
        if isinstance(priority, EventPriority):
            members[priority].append(handler)
        else:
            others.setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._events:
            return
        for table in self._events[event]:
            for key, handlers in list(table.items()):
                table[key] = [h for h in handlers if not h == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        if event not in self._events:
            return
        members, others = self._events[event]
        above = sorted((p for p in others if p >= 0), reverse=True)
        below = sorted((p for p in others if p < 0), reverse=True)
        plan: list[Callable[..., Any]] = []
        for p in above:
            plan += others[p]
        for member in _MEMBERS:
            plan += members[member]
        for p in below:
            plan += others[p]
        for handler in plan:
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
