"""Bug: the wrapper treats a call after it fired as impossible and raises RuntimeError, so the emits that still hold it in their snapshot report an error.

Breaks: "Re-entrant emits: if a listener (or the handler itself) emits event again while the first
emit is running, the handler still runs only once." together with "A listener that raises does not
stop the others: the bus logs the exception and returns it in the emit's EmitResult.errors": the
re-entrant or concurrent emit that skips the handler now returns a RuntimeError nobody raised.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    """One registration of ``handler``: fires once, then takes itself off the bus."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.handler = handler
        self.fired = False
        self.__wrapped__ = handler  # so bus.off(event, handler) finds us
        self.__name__ = getattr(handler, "__name__", type(handler).__name__)
        self.__qualname__ = getattr(handler, "__qualname__", self.__name__)
        self.__doc__ = getattr(handler, "__doc__", None)

    async def __call__(self, /, *args: Any, **kwargs: Any) -> None:
        if self.fired:
            raise RuntimeError(f"once-listener {self.__qualname__} called after it fired")
        self.fired = True
        self.bus.off(self.event, self)
        result = self.handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
