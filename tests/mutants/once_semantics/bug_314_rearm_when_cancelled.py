"""Exercise 2: once_semantics. A handler cancelled mid-run (emit timeout) is re-armed for the next emit.

BUG (planted): "Once called it has run, even if the emit is cancelled while it runs (a
timeout): it does not get another turn." When the await of an async handler is cancelled
(asyncio.wait_for around the emit times out), the wrapper resets its flag and puts itself
back on the bus "so the handler still gets to finish", so the next emit runs the handler again.
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
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # checks event and priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = False

    def rearm() -> None:
        # the handler never got to finish (its emit was cancelled): keep its turn
        nonlocal fired
        fired = False
        bus.on(event, wrapper, priority=priority)

    async def settle(awaitable: Any) -> None:
        try:
            await awaitable
        except asyncio.CancelledError:
            rearm()
            raise

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return settle(result)
        return None

    bus.on(event, wrapper, priority=priority)
    return handler
