"""Bug: uses None as the no-payload marker, so emit("e", None) calls handler() instead of handler(None).

Breaks: "the handler gets exactly the positional and keyword arguments given to `emit`,
however many: `emit("e")` calls `handler()`, `emit("e", 1, 2, k=3)` calls `handler(1, 2, k=3)`"
"""

from __future__ import annotations

import functools
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

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorate

    state = {"fired": False}

    @functools.wraps(handler)
    def listener(payload: Any = None, *rest: Any, **kwargs: Any) -> Any:
        # A sync listener: whatever the handler returns goes back to the bus,
        # which awaits it if it is awaitable.
        if state["fired"]:
            return None
        state["fired"] = True
        bus.off(event, listener)
        if payload is None:  # emit("e") gave no payload
            return handler(*rest, **kwargs)
        return handler(payload, *rest, **kwargs)

    bus.on(event, listener, priority=priority)
    return handler
