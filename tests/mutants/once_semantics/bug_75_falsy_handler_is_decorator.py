"""Bug: decorator use is detected with "if not handler", so a callable handler object that is falsy (len 0) is taken for a missing handler.

Breaks: "once(bus, "e", handler), once(bus=bus, event="e", handler=handler) and @once(bus, "e")
all work, each with or without priority=, and all return handler itself." A callable object with
a length of 0 (say a recorder that collects its calls) gets a decorator back and is never
registered, so it never runs.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _make_wrapper(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    fired = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        outcome = handler(*args, **kwargs)
        if inspect.isawaitable(outcome):
            await outcome

    return wrapper


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if not handler:  # used as @once(bus, "event")
        return functools.partial(once, bus, event, priority=priority)
    bus.on(event, _make_wrapper(bus, event, handler), priority=priority)
    return handler
