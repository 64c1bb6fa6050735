"""Bug: a once registered under a wildcard pattern never takes itself off the bus after it fired (only its spent flag keeps it quiet), to spare the bus the plan flush an off under a pattern causes.

Breaks: "`event` may be a wildcard pattern (`"ui:*"`, `"*"`): the handler fires on the next event it hears, and then nothing of yours is left under the pattern." ... `once(bus, "ui:*", h)` then `await bus.emit("ui:click")`: h runs once, but `len(bus.listeners("ui:*"))` stays 1 instead of going back to 0 (and the spent wrapper is called, as a no-op, on every later `ui:` event).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    """What goes on the bus: calls its handler on the first call only."""

    __slots__ = ("__wrapped__", "_bus", "_event", "_pattern", "_spent")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.__wrapped__ = handler  # bus.off(event, handler) finds this listener by it
        self._bus = bus
        self._event = event
        self._pattern = event.endswith("*")
        self._spent = False

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if self._spent:
            return None
        self._spent = True
        if not self._pattern:
            # An off under a pattern makes the bus forget the cached plan of every
            # event name; the spent flag already keeps a pattern listener silent,
            # so it is not worth that flush.
            self._bus.off(self._event, self)
        return self.__wrapped__(*args, **kwargs)  # the bus awaits what is awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
