"""Style: a small listener class per registration (async ``__call__``) and a registrar class for the decorator form."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    """One registration: armed until its first call, then spent for good."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        # only __wrapped__ is taken from the handler (bus.off(event, handler) finds us by
        # it); nothing of the handler's own __dict__ is copied over our state
        self.__wrapped__ = handler
        self._bus = bus
        self._event = event
        self._armed = True

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if not self._armed:
            # an emit that took its snapshot before we left the bus: nothing to do
            return
        self._armed = False
        self._bus.off(self._event, self)  # leave before the handler can emit again
        result = self.__wrapped__(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    def __repr__(self) -> str:
        state = "armed" if self._armed else "spent"
        return f"<once {self._event!r} {self.__wrapped__!r} {state}>"


class _Registrar:
    """What ``once(bus, event)`` returns: every use registers its function anew."""

    def __init__(self, bus: EventBus, event: str, priority: Any) -> None:
        self._bus = bus
        self._event = event
        self._priority = priority

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return once(self._bus, self._event, fn, priority=self._priority)


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
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
