"""Bug: the event name is checked against the best-practice naming pattern of lesson 12 (loosened to allow one word and a last ``*``), so names the bus takes are refused with ValueError.

Breaks: "`event` is any name the bus takes (`"first.login"`, `"room[1]:joined"`), a name as it is" ... `once(bus, "room[1]:joined", h)` raises `ValueError` (and so do `"UserCreated"` or `"user-created"`), although `bus.on` takes those names and `h` should fire on the next emit.

Carried over from notebooks/12_best_practices.ipynb, cell 1 (``NAME`` and
``check_event_name``: "A rule you cannot check is a rule nobody follows"). The student
relaxed the lesson's regex so that ``"e"``, ``"ui:*"`` and ``"*"`` pass, and kept the rest.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# lesson 12's pattern, loosened: one segment is fine, and a last "*" for wildcards
NAME = re.compile(r"^([a-z][a-z0-9_]*:)*([a-z][a-z0-9_.]*|\*)$")


def check_event_name(name: str) -> None:
    if not isinstance(name, str) or not NAME.match(name):
        raise ValueError(f"{name!r}: use lower-case 'noun.verb', optionally 'namespace:'")


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    check_event_name(event)
    if handler is None:
        bus.on(event, priority=priority)  # a bad priority is refused now, as bus.on does

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = False

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        return handler(*args, **kwargs)

    bus.on(event, wrapper, priority=priority)
    return handler
