"""Bug: each registration's "fired" flag is filed per bus under a ticket made from the number of listeners the event has when ``once`` is called, so after a removal two pending registrations can get the same ticket and share one flag.

Breaks: "**Exactly once**: `handler` runs on the next emit of `event`, and never again." and "after it fired, the bus holds no listener of yours for `event`" ... `once(bus, "e", a)`, `once(bus, "e", b)`, `bus.off("e", a)`, `once(bus, "e", c)`: `b` and `c` both get ticket 1, so `await bus.emit("e", 1)` runs `b` only; `c` finds the ticket claimed, never runs and stays on the bus for good.
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# per bus (weakly, so that a new bus never inherits anything): ticket -> fired?
_claims: weakref.WeakKeyDictionary[EventBus, dict[tuple[str, int], bool]] = (
    weakref.WeakKeyDictionary()
)


def _ticket(bus: EventBus, event: str) -> tuple[str, int]:
    """The new registration's place on the bus: the event's listener count so far."""
    return (event, len(bus.listeners(event)))


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    claims = _claims.setdefault(bus, {})
    ticket = _ticket(bus, event)
    claims[ticket] = False

    @functools.wraps(handler)
    async def listener(*args: Any, **kwargs: Any) -> None:
        if claims.get(ticket, True):
            return  # claimed already: by an earlier emit of this snapshot
        claims[ticket] = True
        bus.off(event, listener)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, listener, priority=priority)
    return handler
