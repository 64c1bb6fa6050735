"""Exercise 2: once_semantics. An awaitable handler is awaited under a 2-second wait_for and cut off after that.

BUG (planted): "whatever the handler returns that is awaitable (`inspect.isawaitable`)
is awaited". The wrapper awaits it through asyncio.wait_for(result, HANDLER_TIMEOUT) so
that a stuck handler cannot hang the emit: a handler that takes longer than 2 s is
cancelled half-way and the emit reports a TimeoutError the handler never raised.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

HANDLER_TIMEOUT = 2.0  # seconds: a stuck handler must not hang the emit


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
            return await asyncio.wait_for(result, HANDLER_TIMEOUT)
        return result

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]  # bus.off(event, handler) finds it
    bus.on(event, wrapper, priority=priority)
    return handler
