"""Exercise 2: once_semantics. Event names are checked against a pattern of the module's own.

BUG (planted): "event is any name the bus takes ("first.login", "room[1]:joined"), a name
as it is". To fail early (in the decorator form too) the module checks the event against
its own regular expression of word segments, dots, dashes, colons and a last "*". Names
the bus takes but the pattern does not ("room[1]:joined", "chat room", "user@home") are
refused with ValueError instead of being registered.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# "user.created", "ui:click", "ui:*", "*": segments of words, dots and dashes,
# separated by ":", and "*" only as the whole last segment
_EVENT = re.compile(r"\*|[\w.-]+(?::[\w.-]+)*(?::\*)?")


def _check_event(event: str) -> None:
    if not isinstance(event, str) or not _EVENT.fullmatch(event):
        raise ValueError(f"not an event name or pattern: {event!r}")


async def _settle(awaitable: Any) -> None:
    await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    _check_event(event)
    if handler is None:
        bus.on(event, priority=priority)  # checks the priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    if not callable(handler):
        raise TypeError(f"once needs a callable handler, not {handler!r}")

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

    wrapper.__wrapped__ = handler
    bus.on(event, wrapper, priority=priority)
    return handler
