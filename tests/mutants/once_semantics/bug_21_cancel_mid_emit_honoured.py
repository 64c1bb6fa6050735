"""BUG (was amb_01_cancel_mid_emit_honoured.py, decided by the new text): the
wrapper also checks that it is still registered (``wrapper in
bus.listeners(event)``) before firing, like the bus's own ``once``. When a
higher-priority listener of the SAME emit calls ``bus.off(event, handler)``, the
handler does not run at all (0 calls instead of 1).

Violates rule 4: "Cancelling *during* an emit (a higher-priority listener calls
`bus.off(event, handler)`) takes effect from the next emit: the emit under way
already holds your listener in its snapshot, so the handler still runs that
once, and never after." (Using ``bus.listeners`` itself is allowed by rule 13.)
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
        if fired or not any(cb is wrapper for cb in bus.listeners(event)):
            return  # already fired, or cancelled since this emit took its snapshot
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
