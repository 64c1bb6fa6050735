"""Bug: the decorator form builds its own copy of the once-listener, and that copy takes itself off with ``bus.off(event, fn)`` (the handler) instead of with itself, so it also removes a permanent ``bus.on`` of the same function.

Breaks: "your `once` removes only its own wrapper (`bus.off(event, wrapper)`, never `bus.off(event, handler)`)." and "`@once(bus, "e")` all work" ... `bus.on("e", f)` then `once(bus, "e")(f)`: the first emit runs `f` twice, but the decorator's listener also takes the permanent `f` off the bus, so the second emit runs nothing instead of `f` once (the call form `once(bus, "e", f)` keeps it).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Once:
    """One registration: a sync callable that runs its handler the first time only."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.__wrapped__ = handler
        self.fired = False

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if self.fired:
            return None
        self.fired = True
        self.leave()
        result = self.__wrapped__(*args, **kwargs)
        if inspect.isawaitable(result):
            return _settle(result)
        return None

    def leave(self) -> None:
        self.bus.off(self.event, self)


class _DecoratedOnce(_Once):
    """The decorator's registration (``@once(bus, "e")``)."""

    def leave(self) -> None:
        # off() finds a listener by what it wraps, so the function takes it off
        self.bus.off(self.event, self.__wrapped__)


async def _settle(awaitable: Any) -> Any:
    return await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # a bad priority is refused here, nothing registered

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            bus.on(event, _DecoratedOnce(bus, event, fn), priority=priority)
            return fn

        return register
    bus.on(event, _Once(bus, event, handler), priority=priority)
    return handler
