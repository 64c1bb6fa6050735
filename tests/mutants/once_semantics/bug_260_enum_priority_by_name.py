"""Exercise 2: once_semantics. Build ``once`` on top of an EventBus's ``on`` and ``off``.

BUG (rule 7): "A member of an ``IntEnum`` of your own (``URGENT = 10``) is an ``int``:
the bus takes it by its value, even one named like a level (``HIGH = 9`` is 9, not
the bus's ``HIGH``) ... pass it on unchanged." ``_normalise_priority`` turns every
foreign enum member into its name, so ``URGENT = 10`` is refused with ``ValueError``
and ``HIGH = 9`` runs at the bus's ``HIGH`` (3). An assistant, knowing that Nexios'
``EventPriority`` values run backwards, "normalises any enum by name" to be safe.
"""

from __future__ import annotations

import enum
import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _normalise_priority(priority: Any) -> Any:
    """Make priorities from other libraries safe for the bus.

    Nexios' ``EventPriority`` has ``HIGHEST = 1`` (its values run the other way), so a
    foreign enum member must be read by its *name*, never by its value.
    """
    if isinstance(priority, enum.Enum) and not isinstance(priority, EventPriority):
        return priority.name.lower()
    return priority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    level = _normalise_priority(priority)
    if handler is None:
        bus.on(event, priority=level)  # raises now for a bad name or priority

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=level)
    return handler
