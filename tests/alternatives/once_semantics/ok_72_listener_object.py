"""Exercise 2: once_semantics.

A class-based solution: each registration is a `_OnceListener` object, a plain sync
callable the bus holds instead of the handler. Its state lives in `__slots__` (nothing
is copied from the handler, so no attribute of the handler can replace it); its
`__wrapped__` slot points at the handler, which is what lets `bus.off(event, handler)`
find it. When called it claims itself (flag first, then `bus.off` with itself), calls
the handler with exactly the emit's arguments (`self` is positional-only, so even a
keyword named `self` reaches the handler) and hands whatever the handler returned back
to the bus, which awaits it once if it is awaitable and collects its exception.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    """One once-registration of ``handler`` on ``event`` of ``bus``."""

    __slots__ = ("__wrapped__", "_bus", "_event", "_spent")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self._spent = False
        self.__wrapped__ = handler

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if self._spent:  # an emit whose snapshot still held us, after we fired
            return None
        self._spent = True
        self._bus.off(self._event, self)  # only this registration, never the handler's others
        return self.__wrapped__(*args, **kwargs)  # the bus awaits it if it is awaitable

    def __repr__(self) -> str:
        return f"<once {self.__wrapped__!r} on {self._event!r}>"


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is not None:
        if not callable(handler):
            raise TypeError(f"once() needs a callable handler, got {handler!r}")
        bus.on(event, _OnceListener(bus, event, handler), priority=priority)
        return handler
    # the decorator: bus.on without a handler checks the event and the priority now
    # (raising what bus.on raises) and registers nothing
    bus.on(event, priority=priority)

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        return once(bus, event, fn, priority=priority)

    return decorate
