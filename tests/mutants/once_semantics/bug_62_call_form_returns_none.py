"""Bug: the direct call forms (positional or keyword) register correctly but fall off the end and return None; only the decorator returns the handler.

Breaks: "`once(bus, "e", handler)`, `once(bus=bus, event="e", handler=handler)` and `@once(bus, "e")` all work, each with or without `priority=`, and all return `handler` itself."
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

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        fired = [False]

        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> None:
            if fired[0]:
                return
            fired[0] = True
            bus.off(event, wrapper)
            result = fn(*args, **kwargs)
            if inspect.isawaitable(result):
                await result

        bus.on(event, wrapper, priority=priority)
        return fn

    if handler is None:
        return register
    register(handler)
