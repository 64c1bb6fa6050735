"""Bug: the wrapper treats the emit as "a payload plus keywords": it passes only the first positional argument on, dropping any further ones.

Breaks: "the handler gets exactly the positional and keyword arguments given to `emit`, however many: ... `emit("e", 1, 2, k=3)` calls `handler(1, 2, k=3)`".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Once:
    __slots__ = ("__wrapped__", "bus", "event", "fired")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.__wrapped__ = handler
        self.bus = bus
        self.event = event
        self.fired = False

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self.fired:
            return
        self.fired = True
        self.bus.off(self.event, self)
        handler = self.__wrapped__
        if args:
            payload = args[0]
            result = handler(payload, **kwargs)
        else:
            result = handler(**kwargs)
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
        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    bus.on(event, _Once(bus, event, handler), priority=priority)
    return handler
