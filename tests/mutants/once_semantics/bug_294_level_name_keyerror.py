"""Exercise 2: once_semantics. A closure wrapper; level names are looked up in ``EventPriority`` by hand.

BUG (planted): "so does a level name the bus does not know (`"urgent"`, a typo), with
`bus.on`'s `ValueError`". ``once`` turns a string level into a member itself with
``EventPriority[name.upper()]`` (so ``"high"`` works in every form), and a name the enum
does not have escapes as that lookup's ``KeyError``: a caller that catches the bus's
``ValueError`` for a bad level does not catch it.
"""

from __future__ import annotations

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
    level: Any = priority
    if isinstance(level, str):
        level = EventPriority[level.strip().upper()]

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        fired = False

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            nonlocal fired
            if fired:
                return None
            fired = True
            bus.off(event, wrapper)
            return fn(*args, **kwargs)

        wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
        bus.on(event, wrapper, priority=level)
        return fn

    if handler is None:
        bus.on(event, priority=level)  # raises what bus.on raises, registers nothing
        return register
    return register(handler)
