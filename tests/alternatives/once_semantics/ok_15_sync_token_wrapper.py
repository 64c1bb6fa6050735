"""Style: a plain (sync) wrapper whose one-shot memory is an iterator token, handing the handler's result back to the bus.

Why it is correct: next(token, None) yields the single token to the first call only, and it is taken (with bus.off of the wrapper itself) before the handler runs, so re-entrant and concurrent emits that hold the wrapper in their snapshot find the token gone; the handler's exception is not caught, so the bus records that very exception; whatever the handler returns is returned to the bus, which awaits it when inspect.isawaitable says so (coroutines, Tasks, Futures, objects with an await method); functools.wraps gives __wrapped__ for bus.off(event, handler); only the wrapper is removed; the priority goes to bus.on unchanged in every call form, and handler itself is returned.
"""

from __future__ import annotations

import functools
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
        return functools.partial(once, bus, event, priority=priority)

    token = iter((True,))

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if next(token, None) is None:
            return None
        bus.off(event, wrapper)
        # the bus awaits what a listener returns when it is awaitable
        return handler(*args, **kwargs)

    bus.on(event, wrapper, priority=priority)
    return handler
