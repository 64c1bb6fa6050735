"""Bug: the wrapper awaits whatever non-None value the handler returns, so a sync handler returning a plain value makes a TypeError.

Breaks: "Sync and async handlers both work; whatever the handler returns that is
awaitable is awaited" (a sync handler that returns, say, a number must not turn
into an error in the emit's result).
"""

from __future__ import annotations

import functools
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

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        state = {"fired": False}

        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> None:
            if state["fired"]:
                return
            state["fired"] = True
            bus.off(event, wrapper)
            result = fn(*args, **kwargs)
            if result is not None:  # the handler gave us something to wait for
                await result

        bus.on(event, wrapper, priority=priority)
        return fn

    if handler is None:
        return register
    return register(handler)
