"""Style: a small listener class whose sync ``__call__`` hands any awaitable back to the bus to await."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    """One registration of ``handler``: armed until its first call, then off the bus."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self._armed = True
        self.__wrapped__ = handler  # how bus.off(event, handler) finds this listener
        self.__qualname__ = getattr(handler, "__qualname__", type(self).__qualname__)

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if not self._armed:  # an emit that took its snapshot before we left the bus
            return None
        self._armed = False
        self._bus.off(self._event, self)  # only this listener, never the handler
        # whatever the handler returns goes back to the bus, which awaits it if awaitable
        return self.__wrapped__(*args, **kwargs)

    def __repr__(self) -> str:
        state = "armed" if self._armed else "spent"
        return f"<once {self.__wrapped__!r} on {self._event!r} ({state})>"


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
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
