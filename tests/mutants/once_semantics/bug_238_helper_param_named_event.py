"""BUG (rule 8, Arguments): "`emit("e", event="x")` calls `handler(event="x")` (so a wrapper of
yours takes `*args, **kwargs` only: a parameter of its own named `event` would catch that
keyword". The wrapper hands the call to a module helper `_fire(bus, event, wrapper, handler,
*args, **kwargs)`; an emit with the keyword `event=` (or `bus=`/`handler=`) collides with the
helper's own parameters and raises TypeError instead of reaching the handler.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _fire(bus: EventBus, event: str, wrapper: Any, handler: Callable[..., Any],
                *args: Any, **kwargs: Any) -> None:
    bus.off(event, wrapper)
    result = handler(*args, **kwargs)
    if inspect.isawaitable(result):
        await result


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
        await _fire(bus, event, wrapper, handler, *args, **kwargs)

    bus.on(event, wrapper, priority=priority)
    return handler
