"""Bug: the handler is called once to test whether its result is awaitable and then called again to await it.

Breaks: "**Exactly once**: `handler` runs on the next emit of `event`, and never
again." (a plain function that returns a coroutine or an asyncio.Task runs twice,
and an async handler makes a coroutine that is never awaited).
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
        def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
            once(bus, event, fn, priority=priority)
            return fn
        return deco

    has_fired = False

    @functools.wraps(handler)
    async def _once_wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal has_fired
        if has_fired:
            return
        has_fired = True
        bus.off(event, _once_wrapper)
        if inspect.isawaitable(handler(*args, **kwargs)):
            await handler(*args, **kwargs)

    bus.on(event, _once_wrapper, priority=priority)
    return handler
