"""BUG: the wrapper checks a ``fired`` flag and takes itself off first, but sets
``fired = True`` only AFTER awaiting the handler. While an async handler is
suspended, a concurrent emit (asyncio.gather) that already holds the wrapper in
its snapshot finds ``fired`` still False and runs the handler a second time.

Violates rule 3: "`await asyncio.gather(bus.emit(event, 1), bus.emit(event, 2))`
with async listeners runs the handler once in total."
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

    fired = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result
        fired = True  # the handler has run now

    bus.on(event, wrapper, priority=priority)
    return handler
