"""BUG (rule 4, Cancelling during an emit): "a higher-priority listener calls
`bus.off(event, handler)` ... the emit under way already holds your listener in its snapshot,
so the handler still runs that once, and never after." Instead of a flag, the wrapper asks
the bus whether it is still registered (`wrapper in bus.listeners(event)`) and does nothing
if not; that stops re-entrant/concurrent repeats, but also skips the handler when it was
cancelled during the emit that already held it.
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

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if wrapper not in bus.listeners(event):
            return  # already fired (or cancelled)
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
