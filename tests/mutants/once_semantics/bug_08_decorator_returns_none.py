"""BUG: the decorator registers the function but has no ``return``, so
``@once(bus, "e")`` rebinds the decorated name to None (the once-listener itself
still works, but the function is lost and cannot be used to cancel it).

Violates rule 6: "`once(bus, "e", handler)` and `@once(bus, "e")` both work, and
both return `handler` itself."
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

        def decorator(fn: Callable[..., Any]) -> None:
            once(bus, event, fn, priority=priority)

        return decorator

    fired = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
