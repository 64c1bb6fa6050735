"""Bug: on an emit with keyword arguments the listener calls the handler first and only then marks itself fired and takes itself off the bus; the positional path does both before the call.

Breaks: "A sync handler too: the bus runs sync listeners as soon as `emit` is called, so the handler's own `bus.emit(event)` can reach your listener again before the handler has returned." ... a sync `h(**kw)` given with `once(bus, "e", h)` that calls `bus.emit("e", who="bob")` while it runs, first emitted with `emit("e", who="ann")`: the inner emit still finds the listener on the bus and not yet fired, so `h` runs twice (`ann`, then `bob`); with positional payloads it runs once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class OnceListener:
    """A sync listener that runs ``handler`` on its first call only, then is spent."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self._spent = False
        self.__wrapped__ = handler

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if self._spent:
            return None
        if kwargs:
            return self._with_keywords(args, kwargs)
        return self._positional(args)

    def _positional(self, args: tuple[Any, ...]) -> Any:
        self._spend()
        return self._settle(self.__wrapped__(*args))

    def _with_keywords(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        result = self.__wrapped__(*args, **kwargs)
        self._spend()
        return self._settle(result)

    def _spend(self) -> None:
        self._spent = True
        self._bus.off(self._event, self)

    @staticmethod
    def _settle(result: Any) -> Any:
        if inspect.isawaitable(result):
            return _awaited(result)
        return None


async def _awaited(awaitable: Any) -> Any:
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
        bus.on(event, priority=priority)  # same refusal as bus.on, nothing registered

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            bus.on(event, OnceListener(bus, event, fn), priority=priority)
            return fn

        return decorator
    bus.on(event, OnceListener(bus, event, handler), priority=priority)
    return handler
