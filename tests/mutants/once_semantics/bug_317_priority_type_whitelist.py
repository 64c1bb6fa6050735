"""Exercise 2: once_semantics. Priority checked against a whitelist (int or str) that refuses other enums.

BUG (planted): "a member of Nexios' own `nexios.events.EventPriority` ... pass it on
unchanged. That list is not closed: a member of a plain `Enum` of your own named like a
level ... is one too". The module refuses, up front, every priority that is not an int
(EventPriority, IntEnum) or a str with its own TypeError, so a Nexios EventPriority member
or a plain Enum member named like a level raises instead of being registered.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _check_priority(priority: Any) -> None:
    """Refuse what is no priority before anything is registered (a bool is no level)."""
    if isinstance(priority, bool) or not isinstance(priority, (int, str)):
        raise TypeError(
            f"priority must be an EventPriority, an int or a level name, not {priority!r}"
        )


async def _settle(awaitable: Any) -> None:
    """Await what the handler returned, once."""
    await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    _check_priority(priority)
    if handler is None:
        bus.on(event, priority=priority)  # checks event and priority, registers nothing

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
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return _settle(result)
        return None

    bus.on(event, wrapper, priority=priority)
    return handler
