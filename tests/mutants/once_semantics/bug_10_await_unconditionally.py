"""BUG: the async wrapper does ``await handler(...)`` whatever the handler is. A
sync handler runs, but then awaiting its return value (None, or any plain value)
raises TypeError inside the listener: the bus records an error for every such
emit (``result.errors``; with ``EventBus(raise_errors=True)`` the emit raises).

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
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        await handler(*args, **kwargs)

    bus.on(event, wrapper, priority=priority)
    return handler
