"""Bug: the wrapper is chosen by ``inspect.iscoroutinefunction(handler)``, and the ``async def`` branch calls ``handler(*args)`` without the keyword arguments.

Breaks: "the handler gets exactly the positional and keyword arguments given to `emit`, however many and whatever their names: ... `emit("e", 1, 2, k=3)` calls `handler(1, 2, k=3)`" ... for `async def h(x, *, who)` given to `once`, `await bus.emit("e", 1, who="ann")` calls `h(1)` (a `TypeError` in `result.errors`) and `emit("e", event="x")` calls `h()`; sync handlers get their keywords.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


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

    state = {"fired": False}

    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def wrapper(*args: Any, **kwargs: Any) -> None:
            if state["fired"]:
                return
            state["fired"] = True
            bus.off(event, wrapper)
            await handler(*args)

    else:

        @functools.wraps(handler)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if state["fired"]:
                return None
            state["fired"] = True
            bus.off(event, wrapper)
            return handler(*args, **kwargs)  # the bus awaits what is awaitable

    bus.on(event, wrapper, priority=priority)
    return handler
