"""Bug: an event takes at most 50 registrations; past that, `on` warns about a leak and does not register the handler.

Breaks: "`on(event, handler, priority=EventPriority.MEDIUM) -> handler` | registers `handler` for `event` and returns it unchanged" and "registering the same handler twice makes it run twice." ... 60 `on("e", f)` calls, then `await emit("e")`: f runs 50 times, not 60 (and a 51st distinct listener never runs at all).

Carried over from notebooks/02_subscription_and_removal.ipynb, cells 17-20 ("Registering
inside a loop ... every run adds the listener again") and the bus's `max_listeners`
(50, "often a leak"): the student turned the lesson's warning into a hard limit.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

MAX_LISTENERS = 50  # more than this on one event is almost always a leak (notebook 2)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[list[Any]]] = {}
        self._count = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        listeners = self._listeners.setdefault(event, [])
        if len(listeners) >= MAX_LISTENERS:
            warnings.warn(
                f"more than {MAX_LISTENERS} listeners on {event!r}: registered inside a loop?",
                RuntimeWarning,
                stacklevel=2,
            )
            return handler
        self._count += 1
        listeners.append([-int(priority), self._count, handler])
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event in self._listeners:
            self._listeners[event] = [row for row in self._listeners[event] if not row[2] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        rows = sorted(self._listeners.get(event, ()), key=lambda row: (row[0], row[1]))
        for _, _, handler in rows:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
