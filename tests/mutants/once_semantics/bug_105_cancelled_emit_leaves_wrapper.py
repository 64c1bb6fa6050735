"""Bug: the wrapper takes itself off the bus only after the handler returned or raised an ``Exception``, so an emit cancelled while the handler runs (a timeout) leaves the wrapper registered.

Breaks: "Once called it has run, even if the emit is cancelled while it runs (a timeout): it does not get another turn." and "after it fired, the bus holds no listener of yours for `event` (`len(bus.listeners(event))` is back where it was)" ... `once(bus, "e", slow)` with `async def slow(): await asyncio.sleep(1)`, then `await asyncio.wait_for(bus.emit("e"), 0.01)`: the handler ran (and never runs again), but `len(bus.listeners("e"))` stays 1 instead of 0, because ``CancelledError`` is not an ``Exception`` and skips both ``bus.off`` calls.
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

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = False

    @functools.wraps(handler)
    async def listener(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:  # an emit that took its snapshot before we left
            return
        fired = True  # claimed before anything can re-enter
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        except Exception:
            bus.off(event, listener)  # a raising handler counts as fired: leave too
            raise
        bus.off(event, listener)  # it ran: take our wrapper (only ours) off

    bus.on(event, listener, priority=priority)
    return handler
