"""Bug: the listener calls the handler through a table of callers by argument count that stops at three positional arguments, so an emit with four or more passes only the first three.

Breaks: "**Arguments**: the handler gets exactly the positional and keyword arguments given to `emit`, however many and whatever their names" ... `once(bus, "e", h)` then `await bus.emit("e", 1, 2, 3, 4)` calls `h(1, 2, 3)`: the 4 is lost (a handler with four parameters gets a `TypeError`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# calling through a fixed arity avoids building a new tuple for the common emits
_CALLERS: tuple[Callable[[Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any], ...] = (
    lambda h, a, k: h(**k),
    lambda h, a, k: h(a[0], **k),
    lambda h, a, k: h(a[0], a[1], **k),
    lambda h, a, k: h(a[0], a[1], a[2], **k),
)


class _Once:
    """A once-listener: the first call takes it off the bus and calls the handler."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self._spent = False
        self.__wrapped__ = handler

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if self._spent:
            return None
        self._spent = True
        self._bus.off(self._event, self)
        call = _CALLERS[min(len(args), len(_CALLERS) - 1)]
        return call(self.__wrapped__, args, kwargs)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)
        return lambda fn: once(bus, event, fn, priority=priority)
    bus.on(event, _Once(bus, event, handler), priority=priority)
    return handler
