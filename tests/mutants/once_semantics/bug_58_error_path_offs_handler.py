"""Bug: when the handler raises, the wrapper cleans up with bus.off(event, handler), which also removes a permanent bus.on of the same handler.

Breaks: "your `once` removes only its own wrapper (`bus.off(event, wrapper)`, never `bus.off(event, handler)`)."
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
        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        except Exception:
            # a failed handler must not linger anywhere on the bus
            bus.off(event, handler)
            raise

    bus.on(event, wrapper, priority=priority)
    return handler
