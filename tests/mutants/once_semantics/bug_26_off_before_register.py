"""BUG: "makes sure the handler is not registered twice": before registering its
wrapper, once calls ``bus.off(event, handler)``. That removes a permanent
``bus.on(event, handler)`` of the same handler, and an earlier pending once of
it (its wrapper's ``__wrapped__`` is the handler).

Violates rule 12: "`bus.on(event, handler)` and `once(bus, event, handler)`
together run the handler twice on the next emit, and the `on` one keeps running
after" and rule 11: "The same handler given twice makes two registrations".
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

    bus.off(event, handler)  # BUG: "no duplicates"

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
