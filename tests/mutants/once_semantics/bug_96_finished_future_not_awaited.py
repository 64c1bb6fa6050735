"""Bug: a Task/Future the handler returns is handed to the bus only while it is still pending; one that is already done is dropped, so a failed one's exception never reaches the bus.

Breaks: "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited:
... an `asyncio.Task` or `Future` ..." and "A handler that raises counts as fired ..., and its
exception reaches the bus (do not catch it ...): the bus ... returns that very exception in
the emit's result". A handler returning a Future that already holds an exception gives
`result.errors == ()` (and "Future exception was never retrieved").
"""

from __future__ import annotations

import asyncio
import functools
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

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register

    fired = False

    @functools.wraps(handler)
    def fire(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, fire)
        result = handler(*args, **kwargs)
        if asyncio.isfuture(result) and result.done():
            return None  # a Task/Future that has finished already: nothing left to wait for
        return result  # anything awaitable is awaited by the bus, once

    bus.on(event, fire, priority=priority)
    return handler
