"""Bug: level names are translated with a home-made table of the lesson's three names; any other name silently becomes MEDIUM.

Breaks: "A priority is anything bus.on takes: an EventPriority member, a plain int (10 runs before
HIGHEST) or a level name such as "high"; pass it on unchanged." The names "highest", "lowest"
and "normal" are not in the table, so a once-handler given priority="highest" runs at MEDIUM.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# the lesson's vocabulary: LOW / MEDIUM / HIGH
_LEVELS = {
    "low": EventPriority.LOW,
    "medium": EventPriority.MEDIUM,
    "high": EventPriority.HIGH,
}


def _level(priority: Any) -> Any:
    """Turn a level name into an EventPriority; ints and members pass through."""
    if isinstance(priority, str):
        return _LEVELS.get(priority.strip().lower(), EventPriority.MEDIUM)
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

    done = [False]

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if done[0]:
            return
        done[0] = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=level)
    return handler
