"""Bug: buckets live in one flat dict keyed by the string f"{event}:{priority}", and emit splits each key at its first ":" to get the event back, so an event whose name contains ":" is never found (and emitting its first segment crashes).

Breaks: "An event is its exact name" and "a listener of `"*"` or `"ui:*"` hears only an emit of that very name" ... after `on("ui:click", h)`, `emit("ui:click")` calls nothing (the key "ui:click:2" is read as event "ui"), and a later `emit("ui")` raises ValueError from `int("click:2")`; names without ":" work.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._buckets: dict[str, list[Callable[..., Any]]] = {}

    @staticmethod
    def _key(event: str, priority: int) -> str:
        return f"{event}:{int(priority)}"

    def _levels(self, event: str) -> list[tuple[int, str]]:
        found = []
        for key in self._buckets:
            name, _, level = key.partition(":")
            if name == event:
                found.append((int(level), key))
        return found

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._buckets.setdefault(self._key(event, priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        for _, key in self._levels(event):
            kept = [h for h in self._buckets[key] if not h == handler]
            if kept:
                self._buckets[key] = kept
            else:
                del self._buckets[key]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        plan = [h for _, key in sorted(self._levels(event), reverse=True)
                for h in self._buckets[key]]
        for handler in plan:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
