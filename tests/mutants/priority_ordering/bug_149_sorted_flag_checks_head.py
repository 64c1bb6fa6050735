"""Bug: the lazy sort's "still sorted" flag compares a new priority with the head of the list instead of its tail, so a priority that falls between the two is appended at the end and the list is never re-sorted.

Breaks: "a bigger priority runs earlier: `HIGHEST`, `HIGH`, `MEDIUM`, `LOW`, `LOWEST`." ... `on("e", x, HIGH)`, `on("e", y, LOW)`, `on("e", z)` then `emit("e")` runs x, y, z: the MEDIUM listener z runs after the LOW one.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> [(priority, handler), ...]; kept sorted lazily (stable sort,
        # so ties stay in registration order).
        self._listeners: dict[str, list[tuple[int, Callable[..., Any]]]] = {}
        # event -> True when the list may be out of priority order
        self._dirty: dict[str, bool] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        level = int(priority)
        entries = self._listeners.setdefault(event, [])
        # Appending keeps the list sorted unless the newcomer outranks what is
        # already there; only then does the next emit need to sort.
        if entries and level > entries[0][0]:
            self._dirty[event] = True
        entries.append((level, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if not entries:
            return
        kept = [entry for entry in entries if not entry[1] == handler]
        if kept:
            # removing never breaks the order: the dirty flag stays as it is
            self._listeners[event] = kept
        else:
            del self._listeners[event]
            self._dirty.pop(event, None)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        entries = self._listeners.get(event)
        if not entries:
            return None
        if self._dirty.pop(event, False):
            entries.sort(key=lambda entry: entry[0], reverse=True)
        snapshot = tuple(handler for _, handler in entries)
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
