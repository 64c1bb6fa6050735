"""BUG: a class-based wrapper that makes itself "stand for" the handler: its
``__eq__`` and ``__hash__`` delegate to the handler ("so bus.off(event, handler)
finds it"). The bus looks listeners up by equality, so the wrapper's own
``bus.off(event, self)`` also removes every registration EQUAL to it: a permanent
``bus.on(event, handler)`` and every other pending once of the same handler.

Violates rule 12: "your `once` removes only its own wrapper" / "the `on` one
keeps running after", and rule 11: "the handler runs twice on the next emit".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Once:
    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus, self.event, self.handler = bus, event, handler
        self.__wrapped__ = handler
        self.fired = False

    def __eq__(self, other: object) -> bool:  # BUG: "I am the handler"
        if isinstance(other, _Once):
            return other.handler == self.handler
        return other == self.handler

    def __hash__(self) -> int:
        return hash(self.handler)

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self.fired:
            return
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
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return lambda fn: once(bus, event, fn, priority=priority)

    bus.on(event, _Once(bus, event, handler), priority=priority)
    return handler
