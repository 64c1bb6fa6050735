"""Exercise 2: once_semantics. A sync closure wrapper that cleans up in a ``finally``.

BUG (planted): "It fired when it was called: its listener is off the bus from then on,
while the handler still runs (and any emit made inside it) too" (rule 5). The tidy-up
moved ``bus.off(event, wrapper)`` from before the call into a ``finally`` around it
("the cleanup in one place that runs whatever the handler does, raising or not"). The
flag still stops a second run, so every count taken after the emit is right, but while
the handler runs (and in any emit it makes) the wrapper is still on the bus:
``len(bus.listeners(event))`` counts it.
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
        bus.on(event, priority=priority)
        return functools.partial(once, bus, event, priority=priority)
    if not callable(handler):
        raise TypeError(f"a handler must be callable, not {handler!r}")
    fired = False

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        try:
            return handler(*args, **kwargs)
        finally:
            bus.off(event, wrapper)

    bus.on(event, wrapper, priority=priority)
    return handler
