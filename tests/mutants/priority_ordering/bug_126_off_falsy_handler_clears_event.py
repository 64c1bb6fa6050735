"""Bug: `off` treats a falsy handler like the bus's `off(event)` without a handler and drops every listener of the event.

Breaks: "`off(event, handler)` removes all of its registrations on that event, and no other handler" ... A callable object whose `__len__` is 0 (or `__bool__` is False), e.g. an empty `Pipeline` that is also a listener: `off("e", pipeline)` also removes every other listener of `"e"`, so the next `emit("e", 1)` calls nobody.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> [(priority, handler)], kept in running order; never changed in
        # place, so an emit can keep the list it started with
        self._events: dict[str, list[tuple[int, Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        level = int(priority)
        records = list(self._events.get(event, ()))
        at = len(records)
        while at > 0 and records[at - 1][0] < level:  # after everything >= its priority
            at -= 1
        records.insert(at, (level, handler))
        self._events[event] = records
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if not handler:
            # off(event, None): every listener of the event goes, as on the bus
            self._events.pop(event, None)
            return
        records = self._events.get(event)
        if records:
            self._events[event] = [r for r in records if not r[1] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for _, handler in self._events.get(event, ()):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
