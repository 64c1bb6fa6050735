"""Bug: registering a handler again at a priority where it is already registered bumps a counter on its first entry instead of adding a new registration, so the second call runs right after the first instead of in its own registration place.

Breaks: "**Ties**: listeners of the same priority run in the order they were registered." and "registering the same handler twice makes it run twice." ... `on("e", a)`, `on("e", b)`, `on("e", a)` then `emit("e", 1)` runs `a, a, b` instead of `a, b, a`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> entries [priority, handler, times], highest priority first,
        # ties in registration order
        self._entries: dict[str, list[list[Any]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        level = int(priority)
        entries = self._entries.setdefault(event, [])
        for entry in entries:
            if entry[0] == level and entry[1] == handler:
                # registered twice: it must run twice
                entry[2] += 1
                return handler
        position = len(entries)
        for i, entry in enumerate(entries):
            if entry[0] < level:
                position = i
                break
        entries.insert(position, [level, handler, 1])
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._entries:
            return
        self._entries[event] = [e for e in self._entries[event] if not e[1] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = [(e[1], e[2]) for e in self._entries.get(event, ())]
        for handler, times in snapshot:
            for _ in range(times):
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
