"""BUG: a plain (sync) wrapper that calls the handler and discards what it
returns. For an ``async def`` handler that return value is the coroutine: it is
never awaited, so the handler's body never runs ("coroutine ... was never
awaited"). Sync handlers work.

Violates rule 9: "Sync and async handlers both work; an async handler is awaited."
"""

from __future__ import annotations

import functools
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
    def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        handler(*args, **kwargs)

    bus.on(event, wrapper, priority=priority)
    return handler
