"""Exercise 2: once_semantics. A TimeoutError out of an awaited handler is taken for a timeout of the emit and dropped.

BUG (planted): "a `TimeoutError` the handler raises itself is its error, not a timeout
of the emit". The wrapper catches asyncio.TimeoutError (TimeoutError itself on 3.11)
around the await of the handler's awaitable and returns quietly, taking it for the emit
running out of time: an async handler whose own asyncio.wait_for (or raise TimeoutError)
fails leaves nothing in result.errors. (A sync handler's TimeoutError still reaches the
bus.)
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
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # checks the name and the priority, registers nothing

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register
    if not callable(handler):
        raise TypeError(f"a handler must be callable, not {handler!r}")

    fired = False

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            try:
                return await result
            except asyncio.TimeoutError:
                # the emit ran out of time while the handler was awaited: it counts
                # as fired, and the timeout is the emit's, not an error of the handler
                return None
        return result

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]  # bus.off(event, handler) finds it
    bus.on(event, wrapper, priority=priority)
    return handler
