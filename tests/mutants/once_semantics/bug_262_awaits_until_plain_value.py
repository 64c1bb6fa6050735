"""Exercise 2: once_semantics. Build ``once`` on top of an EventBus's ``on`` and ``off``.

BUG (rule 9): "It is awaited once: what that gives back is a value, even when it is
awaitable too." ``_resolve`` keeps awaiting while the result is awaitable, so a
handler whose coroutine *returns* a coroutine (or a Task, a Future...) gets that one
run too. An assistant "fully resolves nested awaitables" to be thorough.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _resolve(value: Any) -> Any:
    """Await ``value`` until it is a plain value (handles coroutines, Tasks, Futures,
    objects with ``__await__`` and anything that returns another awaitable)."""
    while inspect.isawaitable(value):
        value = await value
    return value


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)

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
        return await _resolve(handler(*args, **kwargs))

    bus.on(event, wrapper, priority=priority)
    return handler
