"""Bug: to let a timed-out emit still count as fired, the wrapper catches `asyncio.TimeoutError` around the handler and returns quietly; since Python 3.11 that is the builtin `TimeoutError`, so a `TimeoutError` the handler raises itself is swallowed instead of reaching the bus.

Breaks: "its exception reaches the bus (do not catch it, do not wrap it in another) ... whatever its type: a `TimeoutError` the handler raises itself is its error, not a timeout of the emit." ... `async def h(): raise TimeoutError("db")`; `once(bus, "e", h)`; `await bus.emit("e")` returns a result whose `errors` is empty instead of holding that `TimeoutError`.
"""

from __future__ import annotations

import asyncio
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
        bus.on(event, priority=priority)  # validates event and priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = False

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:  # a re-entrant or concurrent emit still holding us in its snapshot
            return None
        fired = True  # before the call: a timed-out emit does not give it another turn
        bus.off(event, wrapper)
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        except asyncio.TimeoutError:
            # the emit was timed out (asyncio.wait_for) while the handler ran: it
            # has fired all the same, and there is nothing more to do for it
            return None
        return result

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]  # bus.off(event, handler)
    bus.on(event, wrapper, priority=priority)
    return handler
