"""Exercise 2: once_semantics. Event names with glob-like characters ("[", "]", "?") are refused.

BUG (planted): "`event` is any name the bus takes (`"first.login"`, `"room[1]:joined"`), a
name as it is". To keep names unambiguous the module refuses any name holding "?", "[" or
"]" with a ValueError, so `once(bus, "room[1]:joined", h)` raises although the bus takes it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_GLOB_CHARACTERS = frozenset("?[]")


def _check_name(event: str) -> None:
    """Only a last ``*`` is a pattern: other glob syntax would be ambiguous, refuse it."""
    if isinstance(event, str) and _GLOB_CHARACTERS.intersection(event):
        raise ValueError(f"event name {event!r} holds glob characters; only a last '*' is allowed")


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
    _check_name(event)
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
