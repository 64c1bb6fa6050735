"""BUG (rule 5, Nothing left behind): "It fired when it was called: its listener is off the bus
from then on, while the handler still runs (and any emit made inside it) too". The wrapper
sets its flag first (so it never fires twice) but takes itself off the bus only after the
handler has finished (`try/finally`), so while an async handler runs, `bus.listeners(event)`
still holds the wrapper.
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
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        finally:
            bus.off(event, wrapper)  # clean up once the handler is done

    bus.on(event, wrapper, priority=priority)
    return handler
