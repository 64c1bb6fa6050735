"""Exercise 2: once_semantics. The wrapper leaves the bus only after the handler finished.

BUG (planted): "It fired when it was called: its listener is off the bus from then on,
while the handler still runs (and any emit made inside it) too". The flag is raised at
once, but bus.off(event, wrapper) runs in a finally after the handler (and its awaitable)
finished: while the handler runs, len(bus.listeners(event)) still counts the wrapper,
and an emit made inside the handler still lists it.
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
        bus.on(event, priority=priority)  # checks the name and the priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    if not callable(handler):
        raise TypeError(f"once needs a callable handler, not {handler!r}")

    fired = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        finally:
            bus.off(event, wrapper)  # done (or failed): nothing of ours stays on the bus

    wrapper.__wrapped__ = handler
    bus.on(event, wrapper, priority=priority)
    return handler
