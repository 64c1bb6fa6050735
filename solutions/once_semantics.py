"""Exercise 2: once_semantics, the reference solution: ``once`` built on an EventBus's ``on``/``off``.

The wrapper takes itself off the bus *before* calling the handler, and a flag
guards it too: an emit works on a snapshot of the listeners, so a re-entrant or
concurrent emit that took its snapshot earlier can still reach the wrapper.
``functools.wraps`` sets ``__wrapped__``, which is how ``bus.off(event, handler)``
finds the wrapper from the original handler.
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
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
