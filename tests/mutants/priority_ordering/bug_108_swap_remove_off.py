"""Bug: off uses swap-with-last removal, which reorders the remaining registrations, while emit relies on list order for ties.

Breaks rule 2: "Ties: listeners of the same priority run in the order they were
registered." emit sorts by priority only (a stable sort, so ties keep list order), and
the list is in registration order, until off moves the last registration into the
removed one's place: after on(a), on(b), on(c) and off(a) the emit runs c before b.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority


@dataclass
class _Registration:
    handler: Callable[..., Any]
    priority: int


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit``; registrations kept in registration order."""

    def __init__(self) -> None:
        self._registrations: dict[str, list[_Registration]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._registrations.setdefault(event, []).append(_Registration(handler, int(priority)))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        registrations = self._registrations.get(event)
        if registrations is None:
            return
        index = 0
        while index < len(registrations):
            if registrations[index].handler == handler:
                # O(1) removal: move the last one into the hole
                registrations[index] = registrations[-1]
                registrations.pop()
            else:
                index += 1
        if not registrations:
            del self._registrations[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        # sorted() is stable: listeners of one priority stay in list order
        snapshot = sorted(self._registrations.get(event, ()), key=lambda r: -r.priority)
        for registration in snapshot:
            result = registration.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
