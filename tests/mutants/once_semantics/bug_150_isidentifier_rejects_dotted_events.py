"""Bug: the event name is validated up front with ``str.isidentifier`` on each ``:`` segment, which rejects ordinary names containing ``.`` or ``-`` that the bus accepts.

Breaks: "**Exactly once**: `handler` runs on the next emit of `event`, and never again." and the text's own example "`@once(bus, "first.login")`" ... ``@once(bus, "first.login")`` (or ``once(bus, "user-42:joined", h)``) raises ``ValueError`` instead of registering, so the handler never runs on ``await bus.emit("first.login", "Alice")``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _checked(event: str) -> str:
    """Fail early on a bad name: ``ui:click``-style segments, ``*`` only as the last one."""
    segments = event.split(":")
    for position, segment in enumerate(segments):
        last = position == len(segments) - 1
        if not (segment.isidentifier() or (last and segment == "*")):
            raise ValueError(f"not an event name or pattern: {event!r}")
    return event


class _Once:
    """The listener of one registration."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus, self._event, self._handler = bus, event, handler
        self._spent = False
        self.__wrapped__ = handler

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._spent:
            return None
        self._spent = True
        self._bus.off(self._event, self)
        outcome = self._handler(*args, **kwargs)
        if inspect.isawaitable(outcome):
            outcome = await outcome
        return outcome


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    event = _checked(event)
    if handler is None:
        return functools.partial(once, bus, event, priority=priority)
    bus.on(event, _Once(bus, event, handler), priority=priority)
    return handler
