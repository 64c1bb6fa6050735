"""BUG: once returns what ``bus.on`` returned, i.e. the WRAPPER, not the handler.
In decorator form the decorated name is bound to the one-shot wrapper (calling it
yourself "uses up" the once and takes it off the bus; it is always async).

Violates rule 6: "`once(bus, "e", handler)` and `@once(bus, "e")` both work, and
both return `handler` itself."
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

    return bus.on(event, wrapper, priority=priority)
