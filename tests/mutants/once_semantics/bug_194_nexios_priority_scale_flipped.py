"""Bug: a member of Nexios' own ``EventPriority`` is turned around to a number (``len + 1 - value``) before it reaches ``bus.on``, instead of being passed on unchanged, so it lands one level too high.

Breaks: "or a member of Nexios' own `nexios.events.EventPriority` (whose values run the other way: `HIGHEST` is 1; the bus goes by its name); pass it on unchanged." ... `bus.on("e", mid)` then `once(bus, "e", h, priority=nexios.events.EventPriority.NORMAL)`: NORMAL becomes 3, the bus's HIGH, so h runs before mid instead of after it (same level, registered later).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

try:
    from nexios.events import EventPriority as NexiosPriority
except ImportError:  # pragma: no cover - nexios is installed with the course
    NexiosPriority = None


def _level(priority: Any) -> Any:
    """Nexios counts its levels the other way round (HIGHEST is 1): turn them around."""
    if NexiosPriority is not None and isinstance(priority, NexiosPriority):
        return len(NexiosPriority) + 1 - priority.value
    return priority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    level = _level(priority)
    if handler is None:
        bus.on(event, priority=level)  # same refusals as bus.on, right away
        return lambda fn: once(bus, event, fn, priority=priority)

    state = {"armed": True}

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if not state["armed"]:
            return
        state["armed"] = False
        bus.off(event, wrapper)
        outcome = handler(*args, **kwargs)
        if inspect.isawaitable(outcome):
            await outcome

    bus.on(event, wrapper, priority=level)
    return handler
