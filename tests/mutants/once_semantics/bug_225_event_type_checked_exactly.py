"""Breaks: "`event` is any name the bus takes (`"first.login"`, `"room[1]:joined"`), a name as it is".
The code refuses any event whose type is not exactly ``str`` (``type(event) is not str``),
so a ``str`` subclass the bus takes, e.g. a member of an ``enum.StrEnum`` catalogue of event
names (``Events.LOGIN = "first.login"``), raises TypeError and registers nothing.
Shows for an app that names its events with a StrEnum; plain-string callers never see it.
"""

from __future__ import annotations

import functools
import inspect
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
    if type(event) is not str or not event:  # fail early, before anything is registered
        raise TypeError(f"event must be a non-empty str, not {event!r}")
    if handler is None:
        return functools.partial(once, bus, event, priority=priority)

    tickets = [True]  # one ticket: the first call that pops it is the one that fires

    async def listener(*args: Any, **kwargs: Any) -> None:
        if not tickets:
            return
        tickets.pop()
        bus.off(event, listener)
        outcome = handler(*args, **kwargs)
        if inspect.isawaitable(outcome):
            await outcome

    functools.update_wrapper(listener, handler)  # sets listener.__wrapped__ = handler
    bus.on(event, listener, priority=priority)
    return handler
