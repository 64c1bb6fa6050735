"""Exercise 2: once_semantics. priority=None is quietly taken as the default level.

BUG (planted): "priority=True (a bool is no level to the bus) or priority=None raises
the TypeError that bus.on raises, and registers nothing". The code maps an explicit
priority=None to EventPriority.MEDIUM before calling bus.on, so once(bus, "e", h,
priority=None) registers h at MEDIUM (it fires on the next emit) instead of raising
TypeError; the decorator form does the same.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _settle(awaitable: Any) -> None:
    await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority | None = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if priority is None:  # no level given: the bus's default
        priority = EventPriority.MEDIUM
    if handler is None:
        bus.on(event, priority=priority)  # checks the name and the priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    if not callable(handler):
        raise TypeError(f"once needs a callable handler, not {handler!r}")

    fired = False

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return _settle(result)
        return None

    wrapper.__wrapped__ = handler
    bus.on(event, wrapper, priority=priority)
    return handler
