"""Bug: on firing, the wrapper calls ``bus.off(event, handler)`` (as notebook 4's ``welcome`` does) and then puts back the permanent registrations of the handler it saw in ``bus.listeners(event)``, with ``bus.on`` at the default priority.

Breaks: "your `once` removes only its own wrapper (`bus.off(event, wrapper)`, never `bus.off(event, handler)`)" and "`once(bus, event, handler)` called by a listener (...) while an emit of `event` runs counts from the next emit" ... `bus.on("e", h, priority=EventPriority.HIGH)`, `bus.on("e", other)`, `once(bus, "e", h)`: after the first emit `h` is back at MEDIUM behind `other`, so the second emit runs `other` before `h`; and a HIGH listener that calls `once(bus, "e", h)` during an emit in which an earlier `once` of `h` fires has that new registration removed before it ever runs.
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
            once(bus, event, fn, priority=priority)
            return fn

        return decorator

    fired = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        # take the handler off first, before anything that can emit (notebook 4) ...
        permanent = [fn for fn in bus.listeners(event) if fn is handler]
        bus.off(event, handler)
        # ... which also took off a permanent bus.on(event, handler): put those back
        for fn in permanent:
            bus.on(event, fn)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
