"""Breaks: "What `bus.on` refuses, `once` refuses too ... (not silently registered at some default level)".
The code reads ``priority=None`` as "not given" and registers at MEDIUM, where ``bus.on``
refuses ``None`` with TypeError. A caller that forwards an unset option
(``once(bus, "e", h, priority=config.get("priority"))``) gets a registration instead of the
bus's TypeError; every priority the bus takes still works.
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
    if priority is None:  # callers forwarding an optional setting: use the default level
        priority = EventPriority.MEDIUM
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
