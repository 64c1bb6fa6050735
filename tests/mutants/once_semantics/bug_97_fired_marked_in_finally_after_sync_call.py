"""Bug: the wrapper marks itself fired and takes itself off the bus in a ``finally`` after the handler call, so while a sync handler runs it is still armed and still registered.

Breaks: "if a listener (or the handler itself) emits `event` again while the first emit is running, the handler still runs only once." ... A sync handler that emits its own event (all listeners sync, so the nested emit runs at once) is called again by that nested emit: `once(bus, "e", h)` where `h(x)` calls `bus.emit("e", 2)` when `x == 1` runs `h(1)` and then `h(2)`.
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
    if handler is None:

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = False

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        try:
            # whatever the handler does (returns, returns an awaitable the bus
            # awaits, or raises), it has fired: the finally covers every case
            return handler(*args, **kwargs)
        finally:
            fired = True
            bus.off(event, wrapper)

    bus.on(event, wrapper, priority=priority)
    return handler
