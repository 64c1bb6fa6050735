"""Bug: clamps the priority into the EventPriority range (LOWEST to HIGHEST) before passing it to bus.on, so an int like 10 becomes HIGHEST.

Breaks rule 7: "A priority is anything `bus.on` takes: an `EventPriority` member or a plain `int` (`10` runs before `HIGHEST`); pass it on unchanged."
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _normalise(priority: Any) -> EventPriority:
    # keep whatever we are given inside the bus's known levels
    level = int(priority)
    level = max(int(EventPriority.LOWEST), min(int(EventPriority.HIGHEST), level))
    return EventPriority(level)


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

    bus.on(event, wrapper, priority=_normalise(priority))
    return handler
