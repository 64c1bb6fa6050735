"""Bug: bus, event and handler are positional-only parameters, so the keyword call form raises TypeError.

Breaks rule 6: "`once(bus, "e", handler)`, `once(bus=bus, event="e", handler=handler)` and `@once(bus, "e")` all work, each with or without `priority=`, and all return `handler` itself."
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def once(bus: EventBus, event: str, handler: Callable[..., Any] | None = None, /, *,
         priority: Any = EventPriority.MEDIUM) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)
        return decorator

    state = {"done": False}

    def listener(*args: Any, **kwargs: Any) -> Any:
        if state["done"]:
            return None
        state["done"] = True
        bus.off(event, listener)
        # the bus awaits whatever awaitable a listener hands back
        return handler(*args, **kwargs)

    functools.update_wrapper(listener, handler)
    bus.on(event, listener, priority=priority)
    return handler
