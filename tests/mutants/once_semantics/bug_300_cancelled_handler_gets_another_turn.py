"""Exercise 2: once_semantics. A handler whose emit is cancelled while it runs is put back on the bus for the next emit.

BUG (planted): "Once called it has run, even if the emit is cancelled while it runs (a
timeout): it does not get another turn." When the emit is cancelled while the handler is
awaited (asyncio.wait_for(bus.emit(...), t) timing out), the wrapper clears its flag and
registers itself again, so the next emit runs the handler a second time.
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
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                return await result
            return result
        except asyncio.CancelledError:
            # cut off before it finished (the emit timed out): it did not really
            # run, so it stays pending for the next emit
            fired = False
            bus.on(event, wrapper, priority=priority)
            raise

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]  # bus.off(event, handler) finds it
    bus.on(event, wrapper, priority=priority)
    return handler
