"""Bug: each event keeps its registrations in a deque(maxlen=64), so the 65th registration silently pushes out the oldest one.

Breaks: "`async emit(event, *args, **kwargs) -> None` | calls every listener of `event` with `*args, **kwargs`" and "registering the same handler twice makes it run twice" ... after 65 `on("e", ...)` calls (for example 65 lambdas, or one handler registered 65 times) `emit("e")` runs only the last 64: the first registration never runs.
"""

from __future__ import annotations

import inspect
import itertools
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple

from day25 import EventPriority

MAX_LISTENERS = 64  # like Node's maxListeners: more than this per event is a leak


class _Registration(NamedTuple):
    priority: int
    order: int
    handler: Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._events: dict[str, deque[_Registration]] = {}
        self._order = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        registrations = self._events.get(event)
        if registrations is None:
            registrations = self._events[event] = deque(maxlen=MAX_LISTENERS)
        registrations.append(_Registration(int(priority), next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        registrations = self._events.get(event)
        if not registrations:
            return
        self._events[event] = deque(
            (r for r in registrations if not r.handler == handler), maxlen=MAX_LISTENERS
        )

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        plan = sorted(self._events.get(event, ()), key=lambda r: (-r.priority, r.order))
        for registration in plan:
            outcome = registration.handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
