"""BUG (rule 9): "It is awaited once: what that gives back is a value, even when it is awaitable
too." The wrapper keeps awaiting while the result is awaitable (`while inspect.isawaitable`),
so a handler whose coroutine returns another coroutine has that one run too.
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
        result = handler(*args, **kwargs)
        while inspect.isawaitable(result):
            result = await result

    bus.on(event, wrapper, priority=priority)
    return handler
