"""Bug: the order cache is checked against a per-event version number that is thrown away with the event's record when `off` removes its last listener, so the version starts again at 1 and the next registration matches the old cached order.

Breaks: "After `off`, nothing of that handler is left on that event: `on` again is a new registration, so it runs once" ... `on("e", a)`, `emit("e")`, `off("e", a)`, `on("e", b)`, `emit("e")` calls `a` again (from the cached order) and never calls `b`.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> {"version": int, "entries": [(priority, seq, handler), ...]}
        self._events: dict[str, dict[str, Any]] = {}
        # event -> (version it was computed for, handlers in call order)
        self._order: dict[str, tuple[int, tuple[Callable[..., Any], ...]]] = {}
        self._seq = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        record = self._events.setdefault(event, {"version": 0, "entries": []})
        record["entries"] = record["entries"] + [(int(priority), next(self._seq), handler)]
        record["version"] += 1
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        record = self._events.get(event)
        if record is None:
            return
        kept = [entry for entry in record["entries"] if not entry[2] == handler]
        if len(kept) == len(record["entries"]):
            return
        if kept:
            record["entries"] = kept
            record["version"] += 1
        else:
            # nobody listens any more: forget the event
            del self._events[event]

    def _ordered(self, event: str) -> tuple[Callable[..., Any], ...]:
        record = self._events.get(event)
        if record is None:
            return ()
        cached = self._order.get(event)
        if cached is not None and cached[0] == record["version"]:
            return cached[1]
        entries = sorted(record["entries"], key=lambda entry: (-entry[0], entry[1]))
        handlers = tuple(entry[2] for entry in entries)
        self._order[event] = (record["version"], handlers)
        return handlers

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for handler in self._ordered(event):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
