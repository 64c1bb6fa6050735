"""Exercise 2: once_semantics. One decorator applied to the same function twice registers it only once.

BUG (planted): "The decorator may be used more than once (`register = once(bus, "e")`, then
`register(f)` and `register(g)`, or `register(f)` again): each use is a registration of its
own, as a call is." The decorator remembers what it already registered and treats a repeat
`register(f)` as a no-op, so f runs once on the next emit instead of twice.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _settle(awaitable: Any) -> None:
    """Await what the handler returned, once."""
    await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # checks event and priority, registers nothing
        done: list[Callable[..., Any]] = []  # by identity: handlers may be unhashable

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            if any(fn is seen for seen in done):
                return fn  # this decorator registered it already: do not stack it twice
            done.append(fn)
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = False

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return _settle(result)
        return None

    bus.on(event, wrapper, priority=priority)
    return handler
