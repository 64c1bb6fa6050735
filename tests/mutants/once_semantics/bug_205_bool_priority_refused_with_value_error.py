"""Bug: ``once`` validates the priority itself with a ``ValueError`` subclass, as the lesson validates a notification, so ``priority=True`` is refused with a ValueError instead of bus.on's TypeError.

Breaks: "What `bus.on` refuses, `once` refuses too: `priority=True` (a `bool` is no level to the bus) raises the `TypeError` that `bus.on` raises, and registers nothing" ... `once(bus, "e", h, priority=True)` raises `InvalidPriority`, a `ValueError`, so `except TypeError` (or `pytest.raises(TypeError)`) does not catch it; in the decorator form too.

Carried over from notebooks/07_notifications.ipynb, cell 4 (``class InvalidNotification(ValueError)``
and ``validate``, which rejects a bad input with that ValueError before anything else runs).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class InvalidPriority(ValueError):
    pass


def validate(priority: Any) -> None:
    """Refuse what the bus cannot take, before anything is registered."""
    if isinstance(priority, bool):
        raise InvalidPriority(f"a bool is not a priority: {priority!r}")
    if isinstance(priority, str) and priority.strip().upper() not in EventPriority.__members__:
        raise InvalidPriority(f"unknown priority {priority!r}")


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    validate(priority)
    if handler is None:

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = [False]

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if fired[0]:
            return None
        fired[0] = True
        bus.off(event, wrapper)
        return handler(*args, **kwargs)

    bus.on(event, wrapper, priority=priority)  # passed on unchanged
    return handler
