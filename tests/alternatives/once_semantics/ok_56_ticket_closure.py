"""Style: an async closure that claims a one-item ticket list; functools.partial is the decorator."""

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
