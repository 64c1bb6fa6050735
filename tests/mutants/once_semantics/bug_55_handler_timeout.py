"""Bug: the wrapper awaits the handler's awaitable with a 1 second timeout, so a slower handler is cancelled and never completes.

Breaks: "**Sync and async handlers** both work; whatever the handler returns that is awaitable
is awaited"
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

HANDLER_TIMEOUT = 1.0  # seconds; a stuck handler must not hold the bus forever


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return functools.partial(once, bus, event, priority=priority)

    token = [handler]  # one-shot: popped by the first call

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if not token:
            return
        fn = token.pop()
        bus.off(event, wrapper)
        result = fn(*args, **kwargs)
        if inspect.isawaitable(result):
            await asyncio.wait_for(result, HANDLER_TIMEOUT)

    bus.on(event, wrapper, priority=priority)
    return handler
