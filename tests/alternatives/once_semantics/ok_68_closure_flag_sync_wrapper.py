"""Exercise 2: once_semantics.

A closure design: ``once`` builds a sync wrapper per registration whose only state is a
one-item list in the enclosing function (never an attribute, so nothing
``functools.wraps`` copies can replace it). The wrapper marks itself fired and takes
itself off the bus before it calls the handler, then hands back whatever the handler
returned: the bus awaits it when it is awaitable, exactly once. The decorator form is
``functools.partial`` of ``once`` itself, checked against ``bus.on`` first so a priority
the bus refuses is refused at once.
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
        # bus.on without a handler registers nothing, but checks the event and priority
        bus.on(event, priority=priority)
        return functools.partial(once, bus, event, priority=priority)
    if not callable(handler):
        raise TypeError(f"a handler must be callable, not {handler!r}")

    fired = [False]

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if fired[0]:
            return None  # an emit whose snapshot still held us: it already ran
        fired[0] = True
        bus.off(event, wrapper)
        return handler(*args, **kwargs)

    bus.on(event, wrapper, priority=priority)
    return handler
