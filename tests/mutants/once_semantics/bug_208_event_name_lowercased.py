"""Bug: the event name is normalised to lower case (the lesson's naming advice), so a once given for a name with capitals is registered under another name and never fires.

Breaks: "`event` is any name the bus takes (`"first.login"`, `"room[1]:joined"`), a name as it is" ... `once(bus, "User.Created", h)` registers under `"user.created"`: `await bus.emit("User.Created", 1)` does not call `h` (and `bus.listeners("User.Created")` is empty), while an emit of `"user.created"` does.

Carried over from notebooks/12_best_practices.ipynb, cell 0-1 ("one consistent pattern",
``check_event_name``: "use lower-case 'noun.verb'"): the student applies the advice by
normalising instead of checking.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _normalise(event: str) -> str:
    """One consistent pattern: event names are lower-case (lesson 12)."""
    return event.lower() if isinstance(event, str) else event


def _register(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> None:
    slot = {"armed": True}

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not slot.pop("armed", False):
            return None
        bus.off(event, wrapper)
        return handler(*args, **kwargs)

    bus.on(event, wrapper, priority=priority)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    event = _normalise(event)
    if handler is None:
        bus.on(event, priority=priority)  # refuses a bad priority now, as bus.on does

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            _register(bus, event, fn, priority)
            return fn

        return decorator
    _register(bus, event, handler, priority)
    return handler
