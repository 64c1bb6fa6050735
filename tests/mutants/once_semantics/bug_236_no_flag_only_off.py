"""BUG (rule 3, Concurrent emits; rule 2): "`await asyncio.gather(bus.emit(event, 1),
bus.emit(event, 2))` with async listeners runs the handler once in total." The wrapper relies
on `bus.off(event, wrapper)` alone (no fired flag): removing it does not reach an emit that
already took its snapshot, so concurrent (and re-entrant) emits run the handler again.
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
        return lambda fn: once(bus, event, fn, priority=priority)

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
