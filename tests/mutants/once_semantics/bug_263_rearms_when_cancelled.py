"""Exercise 2: once_semantics. Build ``once`` on top of an EventBus's ``on`` and ``off``.

BUG (rule 1): "Once called it has run, even if the emit is cancelled while it runs (a
timeout): it does not get another turn." On ``asyncio.CancelledError`` this wrapper
resets its flag and registers itself again, so the handler runs a second time on the
next emit. An assistant adds the "transactional" rollback so an event "isn't lost".
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
        bus.on(event, priority=priority)

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

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
            # The emit was cancelled (e.g. a timeout) before the handler finished:
            # re-arm, so the one-time event is not silently lost, then propagate.
            fired = False
            bus.on(event, wrapper, priority=priority)
            raise

    bus.on(event, wrapper, priority=priority)
    return handler
