"""Exercise 2: once_semantics. Build ``once`` on top of an EventBus's ``on`` and ``off``.

BUG (rule 5): "It fired when it was called: its listener is off the bus from then on,
while the handler still runs (and any emit made inside it) too". Here the wrapper
sets its flag but removes itself in a ``finally`` *after* the handler, so while the
handler runs (and any emit it makes) ``bus.listeners(event)`` still holds it. An
assistant puts cleanup in ``finally`` as the "always release resources" best practice.
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
        bus.on(event, priority=priority)  # fail fast on a bad event name or priority

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            # The flag guards re-entrant and concurrent emits that still hold us.
            return
        fired = True
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        finally:
            # Always unsubscribe, whether the handler succeeded, raised or was cancelled.
            bus.off(event, wrapper)

    bus.on(event, wrapper, priority=priority)
    return handler
