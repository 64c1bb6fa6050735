"""Breaks: "your `once` removes only its own wrapper (`bus.off(event, wrapper)`, never
`bus.off(event, handler)`)" and a refused priority "registers nothing" (rule 7).
When `bus.on` refuses the priority, `once` rolls back with `bus.off(event, handler)` before
re-raising. The refusal itself is right, but the rollback also removes a permanent
`bus.on(event, handler)` and every earlier once of that handler: after a refused
`once(bus, "e", h, priority="urgent")` the next emit runs nothing of `h`.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _State(enum.Enum):
    ARMED = "armed"
    SPENT = "spent"


class _OnceListener:
    """What the bus holds for one ``once``: it calls the handler the first time only."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self._handler = handler
        self._state = _State.ARMED
        self.__wrapped__ = handler  # how bus.off(event, handler) finds this listener
        for name in ("__module__", "__name__", "__qualname__", "__doc__"):
            try:
                value = getattr(handler, name)
            except AttributeError:
                continue
            setattr(self, name, value)

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self._state is not _State.ARMED:
            return  # reached again through an older snapshot: it already fired
        self._state = _State.SPENT
        self._bus.off(self._event, self)
        outcome = self._handler(*args, **kwargs)
        if inspect.isawaitable(outcome):
            await outcome

    def __repr__(self) -> str:
        return f"<once {self._handler!r} on {self._event!r} ({self._state.value})>"


class _Registrar:
    """``once(bus, event)`` without a handler: every use registers anew."""

    def __init__(self, bus: EventBus, event: str, priority: Any) -> None:
        self._bus = bus
        self._event = event
        self._priority = priority

    def __call__(self, handler: Callable[..., Any]) -> Any:
        return once(self._bus, self._event, handler, priority=self._priority)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return _Registrar(bus, event, priority)
    if not callable(handler):
        raise TypeError(f"once() needs a callable handler, not {handler!r}")
    try:
        bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    except (TypeError, ValueError):
        bus.off(event, handler)  # leave nothing of a refused once behind
        raise
    return handler
