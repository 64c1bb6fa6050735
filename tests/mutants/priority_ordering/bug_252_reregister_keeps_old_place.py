"""
BUG (rule 5): "After `off`, nothing of that handler is left on that event: `on` again is a new
registration, so it runs once, after the listeners of its priority registered before it (its
old place is gone)." `off` only deactivates a handler's entries (a tombstone, to avoid
rebuilding the list) and `on` of the same handler at the same priority re-activates a
tombstone instead of appending, so the handler comes back in its OLD place, ahead of the
listeners of its priority registered in between. Counts stay right (one run per `on`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> [[priority, registration number, handler, active]], kept sorted
        self._listeners: dict[str, list[list[Any]]] = {}
        self._registered = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entries = self._listeners.setdefault(event, [])
        for entry in entries:
            if not entry[3] and entry[0] == int(priority) and entry[2] == handler:
                entry[2] = handler
                entry[3] = True  # revive the old entry: cheaper than a new one
                return handler
        self._registered += 1
        entries.append([int(priority), self._registered, handler, True])
        entries.sort(key=lambda entry: (-entry[0], entry[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        for entry in self._listeners.get(event, []):
            if entry[3] and entry[2] == handler:
                entry[3] = False

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = [entry[2] for entry in self._listeners.get(event, []) if entry[3]]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
