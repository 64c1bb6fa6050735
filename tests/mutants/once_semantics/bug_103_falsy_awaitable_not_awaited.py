"""Bug: it awaits the handler's result only ``if result and inspect.isawaitable(result)``, so an awaitable that is falsy (one with a ``__len__`` of 0 or a false ``__bool__``) is dropped without being awaited.

Breaks: "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited: ... an object of a class with `__await__`" ... A handler returning an empty `Batch` (a `list` subclass with `__await__`) never has it awaited: the work `Batch.__await__` does never happens, and an exception it would raise never reaches `result.errors`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Once:
    """Registered on the bus in place of the handler; async, so the bus awaits it."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus, self.event, self.handler, self.done = bus, event, handler, False
        functools.update_wrapper(self, handler)

    async def __call__(self, /, *args: Any, **kwargs: Any) -> None:
        if self.done:
            return
        self.done = True
        self.bus.off(self.event, self)
        result = self.handler(*args, **kwargs)
        if result and inspect.isawaitable(result):
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

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    bus.on(event, _Once(bus, event, handler), priority=priority)
    return handler
