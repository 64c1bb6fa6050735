"""Bug: the wrapper catches ``asyncio.InvalidStateError`` from the handler (thinking of notebook 4's ``once(event, future.set_result)`` whose waiter was cancelled) and drops it.

Breaks: "A handler that raises counts as fired (it never runs again), and its exception reaches the bus (do not catch it, do not wrap it in another): the bus goes on with the other listeners and returns that very exception in the emit's result" ... `fut = loop.create_future(); fut.cancel(); once(bus, "ready", fut.set_result); result = await bus.emit("ready", 1)` gives `result.errors == ()` instead of the `InvalidStateError` that `set_result` raised; the same for any handler that raises `asyncio.InvalidStateError`.
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

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    armed = [True]

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if not armed[0]:
            return
        armed[0] = False
        bus.off(event, wrapper)
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        except asyncio.InvalidStateError:
            # a future's set_result whose waiter gave up (cancelled, timed out):
            # there is nobody left to deliver to
            pass

    bus.on(event, wrapper, priority=priority)
    return handler
