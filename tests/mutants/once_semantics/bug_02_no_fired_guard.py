"""BUG: the wrapper takes itself off the bus BEFORE calling the handler (good) but
has no "fired" flag. Each emit works on a snapshot taken when it starts, so an
emit that already holds the wrapper (an outer emit whose earlier listener emitted
again, or a concurrent emit under gather) still calls it: the handler runs twice.

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
        bus.off(event, wrapper)  # off first, so a nested emit cannot see us
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
