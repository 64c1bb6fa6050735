"""Bug: the wrapper defers its own removal with loop.call_soon (to avoid changing the bus during an emit), so it is still on the bus right after the emit.

Breaks: "**Nothing left behind**: after it fired, the bus holds no listener of yours
for `event` (`len(bus.listeners(event))` is back where it was)."
"""

from __future__ import annotations

import asyncio
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
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        # do not change the bus while it is iterating: remove ourselves right after
        asyncio.get_running_loop().call_soon(bus.off, event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return result  # the bus awaits it
        return None

    bus.on(event, wrapper, priority=priority)
    return handler
