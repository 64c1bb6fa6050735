"""Keeps awaiting while the value is awaitable, so an async handler whose own result is an awaitable (a coroutine, Task or Future it hands back) gets that awaited too, beyond what the handler returned.

Breaks: "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited" (only what the handler returns, once: an async handler's call returns a coroutine, which is awaited, and its result is left alone).
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
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        value = handler(*args, **kwargs)
        # unwrap layer by layer: a coroutine may itself produce another awaitable
        while inspect.isawaitable(value):
            value = await value
        return value

    bus.on(event, wrapper, priority=priority)
    return handler
