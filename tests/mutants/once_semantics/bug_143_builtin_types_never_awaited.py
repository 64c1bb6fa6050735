"""Bug: a fast path returns any instance of a builtin value type (None, numbers, str, list, dict, tuple, set...) without the ``inspect.isawaitable`` check, so an awaitable subclass of a builtin collection is never awaited.

Breaks: "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited: ... an object of a class with `__await__` ...; falsy or not (an empty collection with an `__await__` is awaited too)." ... a handler that returns `Pending()`, where `class Pending(list)` has an `__await__` that records a call: after `await bus.emit("e")` its `__await__` never ran.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# What handlers return nearly always: values of these types are never awaitable,
# so they skip the general (slower) isawaitable check.
_PLAIN_VALUES = (type(None), bool, int, float, complex, str, bytes, tuple, list, dict, set,
                 frozenset)


class _OneShot:
    """The bus listener of one ``once``: an async callable that fires once."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.__wrapped__ = handler
        self.spent = False

    async def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if self.spent:
            return None
        self.spent = True
        self.bus.off(self.event, self)
        result = self.__wrapped__(*args, **kwargs)
        if isinstance(result, _PLAIN_VALUES) or not inspect.isawaitable(result):
            return result
        return await result


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
    bus.on(event, _OneShot(bus, event, handler), priority=priority)
    return handler
