"""Style: a small handle class whose sync `__call__` claims the registration by popping an "armed" entry from its own instance `__dict__` (atomic, no await), built by a classmethod; the decorator form is a bound `functools.partial` of that classmethod.

Follows: "Exactly once", "Re-entrant emits" (a sync handler's own emit finds the entry already popped and the handle already off the bus), "Concurrent emits" (the pop happens before anything is awaited); "Nothing left behind": `bus.off(event, self)` right after the claim, before the handler runs; "Cancelling": the handle's `__wrapped__` is the handler; "A handler that raises counts as fired", its own exception propagates; "Arguments": `__call__(self, *args, **kwargs)`; "Sync and async handlers": an awaitable result (`inspect.isawaitable`) is returned for the bus to await once; "Decorator or call": `handler is None` means decorator, each use arms a new handle; "Priority" passed on unchanged; "Only `on` and `off`".
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Handle:
    __slots__ = ("__dict__", "__wrapped__", "bus", "event")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.__wrapped__ = handler
        self.__dict__["armed"] = handler

    @classmethod
    def arm(cls, bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> Any:
        bus.on(event, cls(bus, event, handler), priority=priority)
        return handler

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        handler = self.__dict__.pop("armed", _GONE)
        if handler is _GONE:
            return None
        self.bus.off(self.event, self)
        result = handler(*args, **kwargs)
        return _Awaiting(result) if inspect.isawaitable(result) else None


_GONE = object()


class _Awaiting:
    """Awaits the handler's awaitable once; what that gives back is a value."""

    __slots__ = ("awaitable",)

    def __init__(self, awaitable: Any) -> None:
        self.awaitable = awaitable

    def __await__(self) -> Any:
        return _await_once(self.awaitable).__await__()


async def _await_once(awaitable: Any) -> None:
    await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return functools.partial(_register, bus, event, priority)
    return _Handle.arm(bus, event, handler, priority)


def _register(bus: EventBus, event: str, priority: Any, handler: Callable[..., Any]) -> Any:
    return _Handle.arm(bus, event, handler, priority)
