"""BUG: the wrapper calls the handler first and takes itself off the bus only
AFTER the handler returned, with no "fired" flag. Any emit that starts (or already
holds a snapshot) while the handler runs still reaches the wrapper: a re-entrant
emit from another listener or from the handler itself, or two emits under
asyncio.gather, run the handler again.

Violates rules 2 and 3: "if a listener (or the handler itself) emits `event` again
while the first emit is running, the handler still runs only once" /
"`await asyncio.gather(bus.emit(event, 1), bus.emit(event, 2))` with async
listeners runs the handler once in total."
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
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result
        bus.off(event, wrapper)  # done: take ourselves off

    bus.on(event, wrapper, priority=priority)
    return handler
