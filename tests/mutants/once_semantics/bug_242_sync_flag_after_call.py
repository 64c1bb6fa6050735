"""BUG (rule 2, Re-entrant emits): "A sync handler too: the bus runs sync listeners as soon as
`emit` is called, so the handler's own `bus.emit(event)` can reach your listener again before
the handler has returned." Sync handlers get a sync wrapper ("a sync call cannot be
interleaved") that marks itself fired and takes itself off only AFTER the handler returned,
so a sync handler that emits its own event runs twice. Async handlers use the correct wrapper.
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

    if not inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            nonlocal fired
            if fired:
                return None
            try:
                result = handler(*args, **kwargs)
            finally:
                fired = True  # a sync call runs to its end: no race possible
                bus.off(event, sync_wrapper)
            return result if inspect.isawaitable(result) else None

        bus.on(event, sync_wrapper, priority=priority)
        return handler

    bus.on(event, wrapper, priority=priority)
    return handler
