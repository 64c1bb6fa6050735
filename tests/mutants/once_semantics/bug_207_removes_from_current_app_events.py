"""Bug: the wrapper takes itself off the module's "current" bus (the one ``once`` was given last, like the lessons' global ``app.events``), not the bus it was registered on.

Breaks: "That is on the bus it was given to: nothing of it reaches another bus, even a new one created where an old one was" and "after it fired, the bus holds no listener of yours for `event` (`len(bus.listeners(event))` is back where it was)" ... `once(bus1, "e", f)`, then `once(bus2, "x", g)`, then `await bus1.emit("e")`: `f` runs once, but its wrapper calls `bus2.off("e", ...)`, so `len(bus1.listeners("e"))` stays 1 for ever.

Carried over from notebooks/04_one_time_listeners.ipynb, cell 9 (``welcome`` takes itself off
with ``app.events.off("login", welcome)``, the one global bus) and every lesson's set-up cell
(``app = NexiosApp(); install(app)``): the lessons only ever have one bus, so "the" bus is a
module-level name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _App:
    """The bus in use, like ``app.events`` after ``install(app)``."""

    events: EventBus | None = None


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    _App.events = bus
    if handler is None:
        bus.on(event, priority=priority)  # refuses a bad priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = False

    @functools.wraps(handler)
    def welcome(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        _App.events.off(event, welcome)  # first: the emit below must not find it any more
        return handler(*args, **kwargs)

    bus.on(event, welcome, priority=priority)
    return handler
