"""Bug: caches "is this handler async?" with functools.lru_cache keyed by the handler, so an unhashable handler (an empty list with a __call__) makes once raise TypeError.

Breaks: "A handler is any callable, a falsy one too (an empty collection with a __call__)".
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


@functools.lru_cache(maxsize=256)
def _is_async(fn: Callable[..., Any]) -> bool:
    """Inspecting signatures is slow; remember the answer per handler."""
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(type(fn), "__call__", None)
    return not inspect.isroutine(fn) and inspect.iscoroutinefunction(call)


def _make_listener(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    fired = [False]

    if _is_async(handler):
        @functools.wraps(handler)
        async def listener(*args: Any, **kwargs: Any) -> Any:
            if fired[0]:
                return None
            fired[0] = True
            bus.off(event, listener)
            return await handler(*args, **kwargs)
    else:
        @functools.wraps(handler)
        def listener(*args: Any, **kwargs: Any) -> Any:
            if fired[0]:
                return None
            fired[0] = True
            bus.off(event, listener)
            # a sync listener's awaitable result is awaited by the bus itself
            return handler(*args, **kwargs)

    return listener


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return functools.partial(once, bus, event, priority=priority)
    bus.on(event, _make_listener(bus, event, handler), priority=priority)
    return handler
