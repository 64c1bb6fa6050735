"""Bug: an enum priority is unwrapped to its `.value` before `bus.on`, which reverses Nexios' `EventPriority` members (HIGHEST is 1 there).

Breaks: "Priority: the handler runs at `priority` among the event's other listeners, in every
call form ... A priority is anything `bus.on` takes: an `EventPriority` member, a plain `int`
(`10` runs before `HIGHEST`) or a level name such as `"high"`; pass it on unchanged."
`bus.on` reads other enums by their *name*; `nexios.events.EventPriority.HIGHEST.value` is 1
(= LOW on this bus) and `LOWEST.value` is 5 (earlier than HIGHEST).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _level(priority: Any) -> Any:
    """The plain number the bus sorts by: enum members carry it in ``.value``."""
    return priority.value if isinstance(priority, enum.Enum) else priority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorate

    done = [False]

    @functools.wraps(handler)
    def call_once(*args: Any, **kwargs: Any) -> Any:
        if done[0]:
            return None
        done[0] = True
        bus.off(event, call_once)
        return handler(*args, **kwargs)  # an awaitable goes back to the bus, awaited once

    bus.on(event, call_once, priority=_level(priority))
    return handler
