"""BUG (rule 7): "What `bus.on` refuses, `once` refuses too: `priority=True` ... or `priority=None`
raises the `TypeError` that `bus.on` raises, and registers nothing; so does a level name the
bus does not know (`"urgent"`), with `bus.on`'s `ValueError` ... (not silently registered at
some default level, nor dropped)." A priority bus.on refuses is caught and the wrapper is
registered at MEDIUM instead ("be lenient").
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

    fired = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    try:
        bus.on(event, wrapper, priority=priority)
    except (TypeError, ValueError):
        bus.on(event, wrapper, priority=EventPriority.MEDIUM)  # unknown level: use the default
    return handler
