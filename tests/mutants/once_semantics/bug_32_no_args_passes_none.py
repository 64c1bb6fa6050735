"""Bug: the wrapper takes a payload parameter defaulting to None, so an emit with no arguments calls handler(None) instead of handler().

Breaks rule 8: "the handler gets exactly the positional and keyword arguments given to `emit`, however many: `emit("e")` calls `handler()`".
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
        return functools.partial(once, bus, event, priority=priority)

    fired = [False]

    @functools.wraps(handler)
    async def wrapper(payload: Any = None, *args: Any, **kwargs: Any) -> None:
        if fired[0]:
            return
        fired[0] = True
        bus.off(event, wrapper)
        outcome = handler(payload, *args, **kwargs)
        if inspect.isawaitable(outcome):
            await outcome

    bus.on(event, wrapper, priority=priority)
    return handler
