"""Exercise 2: once_semantics. A cancelled emit puts the handler back on the bus.

BUG (planted): "Once called it has run, even if the emit is cancelled while it runs (a
timeout): it does not get another turn". When the emit is cancelled while the async
handler is awaited (asyncio.wait_for timing out), the wrapper lowers its flag and
registers itself again, so the handler runs a second time on the next emit.
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
        bus.off(event, wrapper)
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            # the emit was cancelled before the handler finished: it has not really
            # run, so give it its turn back on the next emit
            fired = False
            bus.on(event, wrapper, priority=priority)
            raise

    wrapper.__wrapped__ = handler
    bus.on(event, wrapper, priority=priority)
    return handler
