"""Bug: decides what to await with hasattr(result, "__await__"), so a generator-based coroutine is never run.

Breaks: "whatever the handler returns that is awaitable (inspect.isawaitable) is awaited: ... or a generator-based coroutine (@types.coroutine)."
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _needs_await(value: Any) -> bool:
    # duck typing: anything you can put after ``await`` has an __await__ method
    return hasattr(value, "__await__")


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

    fired = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if not _needs_await(result):
            return result
        return await result

    bus.on(event, wrapper, priority=priority)
    return handler
