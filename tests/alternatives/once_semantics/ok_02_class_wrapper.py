"""OK variant (style: a class-based one-shot wrapper: an object with
``async __call__``, a ``__wrapped__`` attribute so ``bus.off(event, handler)``
finds it, and a ``done`` attribute as the guard). A nested ``def`` decorator.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OneShot:
    """Calls ``__wrapped__`` the first time it is called, after taking itself off the bus."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.__wrapped__ = handler
        self.__qualname__ = getattr(handler, "__qualname__", repr(handler))
        self.done = False

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self.done:
            return
        self.done = True
        self.bus.off(self.event, self)
        outcome = self.__wrapped__(*args, **kwargs)
        if inspect.isawaitable(outcome):
            await outcome


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
