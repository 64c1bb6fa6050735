"""BUG (rule 1, Exactly once): "Once called it has run, even if the emit is cancelled while it
runs (a timeout): it does not get another turn." When the handler is cancelled part-way
(CancelledError, e.g. asyncio.wait_for around the emit), the wrapper re-registers itself and
clears its flag before letting the cancellation out ("it never finished"), so it runs again on
the next emit.
"""

from __future__ import annotations

import functools
import asyncio
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
        except asyncio.CancelledError:
            fired = False  # it did not get to finish: let the next emit run it
            bus.on(event, wrapper, priority=priority)
            raise

    bus.on(event, wrapper, priority=priority)
    return handler
