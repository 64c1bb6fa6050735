"""Exercise 1: priority_ordering.

All registrations of one emitter live in a single flat list of small frozen records
(event, priority, ticket, handler); the ticket comes from a counter that only grows,
so it is the registration order. ``off`` rebuilds the list without the records of
that event whose handler compares equal (``==``) to the one given. ``emit`` selects
the records of its exact event name and sorts them by (-priority, ticket) into a new
list before its first await: that list is its snapshot.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority


@dataclass(frozen=True, eq=False)
class _Registration:
    event: str
    priority: int
    ticket: int
    handler: Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._registrations: list[_Registration] = []
        self._tickets = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._tickets += 1
        self._registrations.append(_Registration(event, int(priority), self._tickets, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        self._registrations = [
            r for r in self._registrations if not (r.event == event and r.handler == handler)
        ]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        plan = sorted(
            (r for r in self._registrations if r.event == event),
            key=lambda r: (-r.priority, r.ticket),
        )
        for registration in plan:
            returned = registration.handler(*args, **kwargs)
            if inspect.isawaitable(returned):
                await returned
