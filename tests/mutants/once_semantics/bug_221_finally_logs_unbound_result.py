"""Breaks: "A handler that raises counts as fired ... and its exception reaches the bus (do not
catch it, do not wrap it in another): ... a handler's `ValueError` is a `ValueError` in
`result.errors`". A debug line in `finally` logs `value`, which is only bound when the await
succeeded: when an awaited handler fails (or the emit is cancelled while it runs) the finally
raises UnboundLocalError, which replaces the handler's error (and swallows the cancellation).
"""

from __future__ import annotations

import enum
import inspect
import logging
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


logger = logging.getLogger(__name__)


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
        try:
            value = await outcome if inspect.isawaitable(outcome) else outcome
        finally:
            logger.debug("once handler on %r gave %r", self._event, value)

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
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
