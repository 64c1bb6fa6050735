"""Breaks: "calls `handler` (with exactly the emit's arguments, however many)" and "A handler is any callable".
A handler that is a class is instantiated once at registration, as a "class-based listener",
and the instance is what the emit calls. A class given as the handler (a dataclass built from
the payload: ``once(bus, "order.placed", Order)``) is never called with the emit's arguments:
registration fails with TypeError, or the instance gets called instead of the class.
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
    if handler is None:
        return functools.partial(once, bus, event, priority=priority)

    # a listener class: register an instance of it, the way class-based listeners work
    target = handler() if isinstance(handler, type) else handler
    tickets = [True]  # one ticket: the first call that pops it is the one that fires

    async def listener(*args: Any, **kwargs: Any) -> None:
        if not tickets:
            return
        tickets.pop()
        bus.off(event, listener)
        outcome = target(*args, **kwargs)
        if inspect.isawaitable(outcome):
            await outcome

    functools.update_wrapper(listener, handler)  # sets listener.__wrapped__ = handler
    bus.on(event, listener, priority=priority)
    return handler
