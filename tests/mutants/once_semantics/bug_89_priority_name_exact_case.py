"""Bug: converts a string priority with EventPriority[name], which only knows upper-case member names, so priority="high" raises KeyError.

Breaks: rule 7, "A priority is anything bus.on takes: an EventPriority member, a plain int ... or a level name such as "high"; pass it on unchanged."
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _level(priority: Any) -> Any:
    """The stub says priority is an EventPriority: turn a name into one."""
    if isinstance(priority, str):
        return EventPriority[priority]
    return priority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    level = _level(priority)
    if handler is None:
        return lambda fn: once(bus, event, fn, priority=level)

    gate = [True]

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not gate:
            return None
        gate.clear()
        bus.off(event, wrapper)
        value = handler(*args, **kwargs)
        if inspect.isawaitable(value):
            value = await value
        return value

    bus.on(event, wrapper, priority=level)
    return handler
