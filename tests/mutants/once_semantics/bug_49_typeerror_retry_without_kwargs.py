"""Bug: a TypeError from the handler call is caught and the handler is called again with the positional arguments only.

Breaks: "**Arguments**: the handler gets exactly the positional and keyword arguments
given to `emit`" and "A handler that raises counts as fired (it never runs again),
and its exception reaches the bus (do not catch it, do not wrap it in another)".
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

    remaining = 1

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal remaining
        if remaining <= 0:
            return
        remaining -= 1
        bus.off(event, wrapper)
        try:
            result = handler(*args, **kwargs)
        except TypeError:
            # a handler that takes no keyword arguments: give it the positional ones
            result = handler(*args)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
