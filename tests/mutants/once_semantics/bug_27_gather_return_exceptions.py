"""BUG: awaits an async handler through ``asyncio.gather(result,
return_exceptions=True)`` ("so one failing handler cannot break the emit"): an
exception raised by an ASYNC handler is returned as a value and dropped, so the
bus never sees it. (A sync handler's exception still propagates.)

Violates rule 10: "A handler that raises counts as fired (it never runs again),
and its exception reaches the bus (do not catch it): the bus goes on with the
other listeners and returns the exception in the emit's result".
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
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await asyncio.gather(result, return_exceptions=True)

    bus.on(event, wrapper, priority=priority)
    return handler
