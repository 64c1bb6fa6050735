"""Bug: the class-based listener sets its __wrapped__ first and then copies the handler's __dict__ over itself, so a handler that is itself decorated (has its own __wrapped__) can no longer be cancelled with bus.off(event, handler).

Breaks: "**Cancelling**: `bus.off(event, handler)` (with the handler you were given, or an
equal one ...) before the event is emitted means it never runs."
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_COPIED = ("__module__", "__name__", "__qualname__", "__doc__")


class OnceListener:
    """A one-shot listener object that looks like the handler it wraps."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.__wrapped__ = handler  # what bus.off(event, handler) looks for
        self._bus = bus
        self._event = event
        self._handler = handler
        self._spent = False
        for name in _COPIED:
            try:
                setattr(self, name, getattr(handler, name))
            except AttributeError:
                pass
        self.__dict__.update(getattr(handler, "__dict__", {}))

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self._spent:
            return
        self._spent = True
        self._bus.off(self._event, self)
        result = self._handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return lambda fn: once(bus, event, fn, priority=priority)
    bus.on(event, OnceListener(bus, event, handler), priority=priority)
    return handler
