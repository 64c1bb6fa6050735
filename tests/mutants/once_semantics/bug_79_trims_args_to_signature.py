"""Bug: the wrapper passes only as many positional arguments as the handler's signature declares (Node style), dropping the extras.

Breaks: "Arguments: the handler gets exactly the positional and keyword arguments given to emit,
however many and whatever their names". A handler def h(x) given emit("e", 1, 2) is called as
h(1) instead of h(1, 2) (which would raise TypeError, reported in result.errors).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _positional_room(fn: Callable[..., Any]) -> int | None:
    """How many positional arguments ``fn`` takes; None for any number (or unknown)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return None
    return sum(1 for p in params if p.kind in _POSITIONAL)


class _Once:
    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus, self.event, self.handler = bus, event, handler
        self.room = _positional_room(handler)
        self.fired = False

    def build(self) -> Callable[..., Any]:
        @functools.wraps(self.handler)
        async def listener(*args: Any, **kwargs: Any) -> None:
            if self.fired:
                return
            self.fired = True
            self.bus.off(self.event, listener)
            if self.room is not None:
                args = args[: self.room]
            result = self.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result

        return listener


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return lambda fn: once(bus, event, fn, priority=priority)
    bus.on(event, _Once(bus, event, handler).build(), priority=priority)
    return handler
