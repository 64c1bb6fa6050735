"""Bug: each bus's ledger of armed registrations comes from ``functools.lru_cache`` on a function of the bus, whose default ``maxsize=128`` silently evicts a bus's ledger once 128 other buses have been used, so its armed registration is forgotten.

Breaks: "**Exactly once**: `handler` runs on the next emit of `event`, and never again." ... ``once(bus, "e", h)``, then ``once`` on 128 other ``EventBus()`` objects, then ``await bus.emit("e", 1)``: ``h`` never runs (its ticket is not in the fresh ledger) and its wrapper stays on the bus.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


@functools.lru_cache
def _ledger(bus: EventBus) -> set[object]:
    """The armed registrations of one bus (keyed by the bus itself, never by its id)."""
    return set()


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

    ticket = object()
    _ledger(bus).add(ticket)

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        armed = _ledger(bus)
        if ticket not in armed:
            return None
        armed.discard(ticket)
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return await result
        return result

    bus.on(event, wrapper, priority=priority)
    return handler
