"""Bug: when the emit is cancelled while the handler is being awaited (``asyncio.CancelledError``), the wrapper decides the handler "did not really fire" and registers itself again.

Breaks: "**Exactly once**: `handler` runs on the next emit of `event`, and never again." ... With `async def h(): await asyncio.sleep(1)`, `await asyncio.wait_for(bus.emit("e"), 0.01)` times out while `h` runs; the wrapper puts itself back on the bus, so the next `bus.emit("e")` runs `h` a second time (and `len(bus.listeners("e"))` is 1 again).
"""

from __future__ import annotations

import asyncio
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

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            once(bus, event, fn, priority=priority)
            return fn

        return decorator

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
            # The emit was cancelled under us (a timeout, a shutdown): the handler never
            # finished, so keep it pending for the next emit instead of losing it.
            fired = False
            bus.on(event, wrapper, priority=priority)
            raise

    bus.on(event, wrapper, priority=priority)
    return handler
