"""Bug: ``priority`` is validated against the stub's "an ``EventPriority`` or an ``int``", so a level name or a Nexios ``EventPriority`` member is rejected with ``TypeError``.

Breaks: "A priority is anything `bus.on` takes: an `EventPriority` member, a plain `int` (`10` runs before `HIGHEST`), a level name such as `"high"`, or a member of Nexios' own `nexios.events.EventPriority` (...); pass it on unchanged." ... `once(bus, "e", h, priority="high")` and `@once(bus, "e", priority=nexios.events.EventPriority.HIGH)` raise `TypeError` instead of registering `h` at HIGH, although `bus.on` takes both.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _checked_priority(priority: Any) -> EventPriority | int:
    """Fail early, in the caller's frame, rather than at the first emit."""
    if isinstance(priority, bool) or not isinstance(priority, (EventPriority, int)):
        raise TypeError(f"priority must be an EventPriority or an int, not {priority!r}")
    return priority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    priority = _checked_priority(priority)
    if handler is None:
        return functools.partial(once, bus, event, priority=priority)

    token = [handler]  # the one call this registration may make

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not token:  # spent: an emit that took its snapshot before we left
            return None
        fn = token.pop()
        bus.off(event, wrapper)
        return fn(*args, **kwargs)  # the bus awaits what is awaitable

    bus.on(event, wrapper, priority=priority)
    return handler
