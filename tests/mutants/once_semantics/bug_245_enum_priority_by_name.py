"""BUG (rule 7, Priority): "A member of an `IntEnum` of your own (`URGENT = 10`) is an `int`: the
bus takes it by its value, even one named like a level (`HIGH = 9` is 9, not the bus's
`HIGH`)" - "pass it on unchanged". To support Nexios' enum, every enum member is turned into
its name before bus.on, so an IntEnum member HIGH = 9 becomes "HIGH" (3) and URGENT = 10
raises ValueError.
"""

from __future__ import annotations

import functools
import enum
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
    if isinstance(priority, enum.Enum) and not isinstance(priority, EventPriority):
        priority = priority.name  # Nexios-style enums go by name
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

    bus.on(event, wrapper, priority=priority)
    return handler
