"""BUG (rule 2, Ties / rule 5): "listeners of the same priority run in the order they were
registered" and "registering the same handler twice makes it run twice". A second `on`
of an already registered handler bumps a repeat count on its FIRST entry instead of adding
an entry, so it runs twice in a row at its first place (and first priority): on(f), on(g),
on(f) runs f, f, g instead of f, g, f.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> [(priority, registration number, handler)], kept sorted
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._registered = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._registered += 1
        entries = self._listeners.setdefault(event, [])
        for i, (p, n, h) in enumerate(entries):
            if h is handler and p == int(priority):
                entries.insert(i + 1, (p, n, h))  # keep duplicates together
                return handler
        entries.append((int(priority), self._registered, handler))
        entries.sort(key=lambda entry: (-entry[0], entry[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        # ==, not `is`: `obj.method` is a new bound-method object at every access,
        # and two of them are equal when they bind the same function to the same object
        entries = self._listeners.get(event, [])
        entries[:] = [entry for entry in entries if entry[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for _priority, _n, handler in list(self._listeners.get(event, [])):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
