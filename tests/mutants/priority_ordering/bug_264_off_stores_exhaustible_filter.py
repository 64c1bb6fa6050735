"""Bug: `off` stores `filter(...)` (a one-shot iterator, not a list) as the event's listeners; the first emit consumes it.

Breaks: "`off(event, handler)` removes all of its registrations on that event, and no other handler" (and rule 10, "the next emit runs every listener again") ... on("e", f); on("e", g); off("e", f); emit("e") runs g, but a second emit("e") runs nothing: the filter is exhausted."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._seq = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._seq += 1
        self._listeners[event] = [*self._listeners.get(event, ()), (int(priority), self._seq, handler)]
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if entries is None:
            return
        self._listeners[event] = filter(lambda entry: entry[2] != handler, entries)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        for _priority, _seq, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
