"""Exercise 2: once_semantics.

A class design: ``_OnceListener`` is a small ``__slots__`` object with a sync
``__call__``; its ``_done`` slot is the flag that stops re-entrant and concurrent
emits (they run on snapshots), and it removes only itself with
``bus.off(event, self)``. ``__wrapped__`` (a slot) points at the handler, so
``bus.off(event, handler)`` cancels it. The decorator is a small callable class
too, validating the priority through ``bus.on`` before any registration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    __slots__ = ("__wrapped__", "_bus", "_done", "_event")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self._done = False
        self.__wrapped__ = handler

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._done:
            return None
        self._done = True
        self._bus.off(self._event, self)
        return self.__wrapped__(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<once {self._event!r} {self.__wrapped__!r}>"


class _Register:
    """What ``@once(bus, event)`` returns: each call registers one handler."""

    def __init__(self, bus: EventBus, event: str, priority: Any) -> None:
        bus.on(event, priority=priority)  # raises what bus.on raises; registers nothing
        self.bus, self.event, self.priority = bus, event, priority

    def __call__(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        self.bus.on(self.event, _OnceListener(self.bus, self.event, handler),
                    priority=self.priority)
        return handler


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    register = _Register(bus, event, priority)
    if handler is None:
        return register
    return register(handler)
