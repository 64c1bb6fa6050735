"""Bug: when the emit is cancelled while the handler runs, the wrapper "makes sure it gets no other turn" with ``bus.off(event, handler)``, which also removes every other registration of that handler on the event: a permanent ``bus.on`` one and other ``once`` ones.

Breaks: "your `once` removes only its own wrapper (`bus.off(event, wrapper)`, never `bus.off(event, handler)`)" and "`bus.on(event, handler)` and `once(bus, event, handler)` together run the handler twice on the next emit, and the `on` one keeps running after" ... `bus.on("e", h)` plus `once(bus, "e", h, priority=HIGH)` with `async def h` that sleeps: `asyncio.wait_for(bus.emit("e", 1), 0.01)` times out inside the once call, and from then on `emit("e", 2)` no longer calls `h` at all (the permanent listener is gone).
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

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    if not callable(handler):
        raise TypeError(f"a listener must be callable, not {handler!r}")
    fired = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            # cut short (a timeout): it counts as run, so it must not get another turn
            bus.off(event, handler)
            raise

    bus.on(event, wrapper, priority=priority)
    return handler
