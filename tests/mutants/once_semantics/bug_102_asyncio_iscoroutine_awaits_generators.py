"""Bug: it decides what to await with ``asyncio.iscoroutine(result) or inspect.isawaitable(result)``, and on Python 3.11 ``asyncio.iscoroutine`` is also true for a plain generator, which it then tries to await.

Breaks: "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited" ... A handler that returns a plain (non-coroutine) generator, such as `def h(rows): return (r * 2 for r in rows)` or a handler written with `yield`, returns a value that must be left alone; here `await` on it raises `TypeError: object generator can't be used in 'await' expression`, which lands in `result.errors` though the handler raised nothing.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _must_await(value: Any) -> bool:
    # coroutines (async def, and @types.coroutine generators) and anything with __await__
    return asyncio.iscoroutine(value) or inspect.isawaitable(value)


async def _settle(value: Any) -> Any:
    return await value  # awaited once: what it gives back is a value


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return lambda fn: once(bus, event, fn, priority=priority)

    remaining = [handler]

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not remaining:
            return None
        fn = remaining.pop()
        bus.off(event, wrapper)
        result = fn(*args, **kwargs)
        return _settle(result) if _must_await(result) else None

    bus.on(event, wrapper, priority=priority)
    return handler
