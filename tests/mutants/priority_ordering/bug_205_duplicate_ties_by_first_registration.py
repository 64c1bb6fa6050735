"""Bug: ties are ordered by when each handler was first registered on the event, so a handler registered again at the same priority runs next to its first registration instead of at the back.

Breaks: "**Ties**: listeners of the same priority run in the order they were registered." ... "Registering the same handler twice makes it run twice." (each registration is a listener with its own place; the stub: "ties in registration order"). With on("e", a), on("e", b), on("e", a) (all MEDIUM), emit("e") must call a, b, a; this calls a, a, b.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> list of (priority, handler), in the order of the on() calls
        self._listeners: dict[str, list[tuple[int, Callable[..., Any]]]] = {}
        # event -> [[handler, arrival number], ...]: when each handler arrived on it
        self._arrivals: dict[str, list[list[Any]]] = {}
        self._clock = 0

    def _arrival(self, event: str, handler: Callable[..., Any]) -> int:
        for known, number in self._arrivals.setdefault(event, []):
            if known == handler:
                return number
        self._clock += 1
        self._arrivals[event].append([handler, self._clock])
        return self._clock

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._arrival(event, handler)
        self._listeners.setdefault(event, []).append((int(priority), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._listeners:
            return
        self._listeners[event] = [(p, h) for p, h in self._listeners[event] if not h == handler]
        # its arrival is forgotten too: on() again comes in as a newcomer
        self._arrivals[event] = [pair for pair in self._arrivals.get(event, [])
                                 if not pair[0] == handler]

    def _order(self, event: str) -> list[Callable[..., Any]]:
        listed = self._listeners.get(event, [])
        keyed = [(-p, self._arrival(event, h), h) for p, h in listed]
        keyed.sort(key=lambda item: (item[0], item[1]))
        return [h for _, _, h in keyed]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for handler in self._order(event):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
