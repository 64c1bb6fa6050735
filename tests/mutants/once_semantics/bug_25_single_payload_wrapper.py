"""BUG: the wrapper is written for the lesson's one-payload events:
``wrapper(payload=None, **kwargs)`` calls ``handler(payload, **kwargs)``. An emit
with two positional arguments raises TypeError in the wrapper (the handler never
runs, although the once is used up), and an emit with no positional argument
calls ``handler(None)``.

Violates rule 8: "**Arguments**: the handler gets exactly the positional and
keyword arguments given to `emit`."
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
    async def wrapper(payload: Any = None, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        result = handler(payload, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
