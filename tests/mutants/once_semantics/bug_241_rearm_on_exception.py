"""BUG (rule 10, A handler that raises): "counts as fired (it never runs again), and its
exception reaches the bus". A handler that raises is treated as "not really handled": the
wrapper resets its flag and registers itself again before re-raising the very same
exception, so the handler runs again on the next emit.
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
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        except Exception:
            fired = False  # it failed: give it another chance on the next emit
            bus.on(event, wrapper, priority=priority)
            raise

    bus.on(event, wrapper, priority=priority)
    return handler
