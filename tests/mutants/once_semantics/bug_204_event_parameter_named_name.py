"""Bug: the event parameter is called ``name``, as in the cheat sheet's ``app.events.on(name, fn)``, so the keyword form ``once(bus=..., event=..., handler=...)`` raises TypeError.

Breaks: "`once(bus, "e", handler)`, `once(bus=bus, event="e", handler=handler)` and `@once(bus, "e")` all work, each with or without `priority=`" ... `once(bus=bus, event="e", handler=h)` raises `TypeError: once() got an unexpected keyword argument 'event'` and registers nothing; the positional and decorator forms work.

Carried over from docs/cheatsheet.md, the table row "listen": ``app.events.on(name, fn)``
(and "remove one": ``app.events.off(name, fn)``): the lesson's name for an event's name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def once(
    bus: EventBus,
    name: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``name`` event only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(name, priority=priority)  # refuses a bad priority at once, like bus.on

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, name, fn, priority=priority)

        return decorator

    state = {"fired": False}

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if state["fired"]:
            return None
        state["fired"] = True
        bus.off(name, wrapper)
        return handler(*args, **kwargs)

    bus.on(name, wrapper, priority=priority)
    return handler
