"""Breaks: "so a wrapper of yours takes `*args, **kwargs` only" (rule 8).
The wrapper binds the bus as a default argument, ``_bus=bus`` (the late-binding idiom of a
loop), so ``emit("e", 1, _bus="x")`` fills that parameter: the handler never gets the
keyword, and the wrapper calls ``"x".off``. Every keyword the suite names in advance
(``event``, ``bus``, ``handler``...) still reaches the handler. From a student's test (stop 58).
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
    async def wrapper(*args: Any, _bus: EventBus = bus, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        _bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
