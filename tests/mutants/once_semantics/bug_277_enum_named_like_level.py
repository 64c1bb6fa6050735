"""Exercise 2: once_semantics. A closure wrapper, with a ``_level`` helper that maps enum members to the bus's levels.

BUG (planted): the page says "A member of an `IntEnum` of your own (`URGENT = 10`) is
an `int`: the bus takes it by its value, even one named like a level (`HIGH = 9` is 9,
not the bus's `HIGH`)" and "pass it on unchanged". This version translates any enum
member whose name is a level name into that ``EventPriority`` level, to be safe with
Nexios' reversed ``EventPriority``; an ``IntEnum`` member ``HIGH = 9`` is then the
bus's ``HIGH`` (3), and runs after listeners at 4..8 instead of before them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _level(priority: Any) -> Any:
    """Nexios' EventPriority (and the like) by name; everything else as given."""
    if isinstance(priority, enum.Enum) and not isinstance(priority, EventPriority):
        name = priority.name.upper()
        if name in EventPriority.__members__:
            return EventPriority[name]
    return priority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    level = _level(priority)
    if handler is None:
        bus.on(event, priority=level)  # refuses what the bus refuses, registers nothing
        return lambda fn: once(bus, event, fn, priority=priority)
    if not callable(handler):
        raise TypeError(f"expected a callable handler, got {handler!r}")

    done = [False]

    def call_once(*args: Any, **kwargs: Any) -> Any:
        if done[0]:
            return None
        done[0] = True
        bus.off(event, call_once)
        return handler(*args, **kwargs)

    call_once.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, call_once, priority=level)
    return handler
