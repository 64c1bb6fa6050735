"""Bug: "fired" is a shared count of pending registrations per (bus, event, handler) instead of a flag per registration; a cancel never lowers it.

Breaks: "a handler given again after it was cancelled fires again (once)" (and rule 11: "each fires once").
"""

from __future__ import annotations

import functools
import inspect
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# how many once-registrations of a handler are still waiting, per bus and event
_pending: defaultdict[tuple[int, str, Any], int] = defaultdict(int)


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

    key = (id(bus), event, handler)
    _pending[key] += 1

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if _pending[key] <= 0:
            return
        _pending[key] -= 1
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
