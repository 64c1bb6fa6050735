"""Bug: a handler that returns an exception object (rather than raising it) is treated as having failed, error-as-value style, and the wrapper raises that returned exception into the bus.

Breaks: "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited" ... "Anything else, a plain generator too, is a value, not awaited" ... `def h(x): return ValueError("a value")` given with `once`: `await bus.emit("e", 1)` returns a result whose `errors` holds that ValueError, although `h` raised nothing (the same for an async handler whose result is an exception object).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _settled(value: Any) -> Any:
    """A returned error is a failure, like a rejected promise or Go's ``return err``."""
    if isinstance(value, Exception):
        raise value
    return value


async def _await_then_settle(awaitable: Any) -> Any:
    return _settled(await awaitable)


class _Once:
    __slots__ = ("__wrapped__", "bus", "event", "spent")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.__wrapped__ = handler
        self.spent = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.spent:
            return None
        self.spent = True
        self.bus.off(self.event, self)
        result = self.__wrapped__(*args, **kwargs)
        if inspect.isawaitable(result):
            return _await_then_settle(result)
        return _settled(result)


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
    bus.on(event, _Once(bus, event, handler), priority=priority)
    return handler
