"""Bug: the fired flag lives in ``once``'s own scope, so every function registered through one ``once(bus, event)`` decorator shares a single flag.

Breaks: "The same handler given twice makes two registrations: each fires once, so the handler runs twice on the next emit and never after" and "after it fired, the bus holds no listener of yours for `event`" ... `register = once(bus, "e"); register(h); register(h); await bus.emit("e", 1)` runs `h` once instead of twice, and the second wrapper (which found the shared flag already set) stays on the bus for good; likewise `register(f); register(g)` never runs `g`.
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
    fired = False

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> None:
            nonlocal fired
            if fired:  # an emit that took its snapshot before we left
                return
            fired = True
            bus.off(event, wrapper)  # first: a re-entrant emit must not find us
            result = fn(*args, **kwargs)
            if inspect.isawaitable(result):
                await result

        bus.on(event, wrapper, priority=priority)
        return fn

    if handler is None:
        return register
    return register(handler)
