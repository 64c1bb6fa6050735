"""Exercise 2: once_semantics. Awaitables are recognised by an __await__ attribute only.

BUG (planted): "whatever the handler returns that is awaitable (inspect.isawaitable) is
awaited: ... or a generator-based coroutine (@types.coroutine)". The wrapper tests
hasattr(result, "__await__"), which holds for coroutines, Tasks, Futures and objects with
__await__ (all the public checks return), but not for a generator-based coroutine: its
generator is returned as a plain value, never awaited, and the handler's body never runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _settle(awaitable: Any) -> None:
    await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # checks the name and the priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    if not callable(handler):
        raise TypeError(f"once needs a callable handler, not {handler!r}")

    fired = False

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        # coroutines, Tasks, Futures and custom awaitables all have __await__
        if hasattr(result, "__await__"):
            return _settle(result)
        return None

    wrapper.__wrapped__ = handler
    bus.on(event, wrapper, priority=priority)
    return handler
