"""Bug: a late (concurrent or re-entrant) call waits on an asyncio.Event that is set only when the handler succeeds, so after a raising handler that emit hangs forever.

Breaks: rule 10, "A handler that raises counts as fired ... the bus goes on with the other listeners" (in combination with rule 3, concurrent emits, and rule 2, re-entrant emits).
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
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return lambda fn: once(bus, event, fn, priority=priority)

    started = False
    done = asyncio.Event()  # set when the one run of the handler is over

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal started
        if started:
            # another emit is running (or ran) the handler: do not let this emit
            # get ahead of it
            await done.wait()
            return
        started = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result
        done.set()

    bus.on(event, wrapper, priority=priority)
    return handler
