"""Bug: the third parameter is renamed from handler to listener, so the keyword call form breaks.

Breaks: "`once(bus, "e", handler)`, `once(bus=bus, event="e", handler=handler)` and
`@once(bus, "e")` all work, each with or without `priority=`, and all return
`handler` itself."
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
    listener: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``listener`` on the next ``event`` only; usable as a decorator."""
    if listener is None:
        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)
        return decorator

    fired = False

    @functools.wraps(listener)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        result = listener(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return listener
