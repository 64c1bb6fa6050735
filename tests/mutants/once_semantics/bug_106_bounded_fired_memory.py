"""Bug: which registrations have fired is remembered in a module-wide ``deque(maxlen=256)`` of tickets, so once more than 256 other once-listeners fire before an emit that still holds this one in its snapshot reaches it, its ticket is forgotten and it fires a second time.

Breaks: "**Exactly once**: `handler` runs on the next emit of `event`, and never again." and "**Concurrent emits**: `await asyncio.gather(bus.emit(event, 1), bus.emit(event, 2))` with async listeners runs the handler once in total." ... with 300 async handlers each given by `once(bus, "e", h_i)` behind a slow HIGH async listener, `await asyncio.gather(bus.emit("e", 1), bus.emit("e", 2))`: the first emit fires all 300, leaving only the last 256 tickets in the deque; the second finds the first ticket gone, runs that handler again, and each such re-run pushes the next ticket out, so all 300 handlers run twice (a re-entrant emit does the same).
"""

from __future__ import annotations

import functools
import inspect
import itertools
from collections import deque
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_tickets = itertools.count(1)  # never reused, on any bus: not an id()
# Tickets of once-listeners that fired. Only an emit already under way (its snapshot
# was taken before the listener left the bus) can call a fired listener again, so
# the recent ones are all we need to remember; bounded so it never grows forever.
_fired: deque[int] = deque(maxlen=256)


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

    ticket = next(_tickets)

    @functools.wraps(handler)
    async def listener(*args: Any, **kwargs: Any) -> None:
        if ticket in _fired:
            return
        _fired.append(ticket)
        bus.off(event, listener)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, listener, priority=priority)
    return handler
