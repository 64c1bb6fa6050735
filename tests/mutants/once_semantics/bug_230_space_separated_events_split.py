"""Breaks: "`event` is any name the bus takes (...), a name as it is".
Like jQuery's ``.one("click dblclick", fn)``, the code splits ``event`` on whitespace and arms
one shared listener under each word. A name with a space in it, which the bus takes
(``once(bus, "order placed", h)``), is registered as "order" and "placed": the emit of
"order placed" never calls the handler. One-word names behave correctly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    """One registration of ``handler``: armed until its first call, then off the bus."""

    def __init__(self, bus: EventBus, events: list[str], handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._events = events
        self._armed = True
        self.__wrapped__ = handler  # how bus.off(event, handler) finds this listener
        self.__qualname__ = getattr(handler, "__qualname__", type(self).__qualname__)

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if not self._armed:  # an emit that took its snapshot before we left the bus
            return None
        self._armed = False
        for name in self._events:  # only this listener, never the handler
            self._bus.off(name, self)
        # whatever the handler returns goes back to the bus, which awaits it if awaitable
        return self.__wrapped__(*args, **kwargs)

    def __repr__(self) -> str:
        state = "armed" if self._armed else "spent"
        return f"<once {self.__wrapped__!r} on {self._events!r} ({state})>"


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register
    if not callable(handler):
        raise TypeError(f"a handler must be callable, not {handler!r}")
    names = event.split() or [event]  # "a b" listens to both, whichever comes first
    listener = _OnceListener(bus, names, handler)
    for name in names:
        bus.on(name, listener, priority=priority)
    return handler
