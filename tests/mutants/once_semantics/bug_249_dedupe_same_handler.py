"""BUG (rule 11, The same handler given twice): "makes two registrations: each fires once, so the
handler runs twice on the next emit". once() skips registering a handler that already has a
pending once-wrapper on that event (found via `__wrapped__` in `bus.listeners(event)`),
"to avoid duplicate registrations", so it runs only once.
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
        if inspect.isawaitable(result):
            await result

    for existing in bus.listeners(event):
        if getattr(existing, "__wrapped__", None) is handler and getattr(existing, "_day25_once", False):
            return handler  # already waiting for this event
    wrapper._day25_once = True  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)
    return handler
