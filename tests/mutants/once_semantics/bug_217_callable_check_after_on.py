"""Breaks: "A handler that is not callable (`once(bus, "e", 42)`) is left open: refusing it
at once with `TypeError`, or leaving it to fail in the emit, are both fine; nothing else is".
The callable check runs after `bus.on`, so the refusal comes when the listener is already on
the bus: `once(bus, "e", 42)` raises TypeError, yet `len(bus.listeners("e"))` went up by one
and the next emit fails again with "'int' object is not callable". Refused, yet registered.
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
    # bus.on first, so that its own priority refusals (bool, unknown names) win
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    if not callable(handler):
        raise TypeError(f"once() needs a callable handler, not {handler!r}")
    return handler
