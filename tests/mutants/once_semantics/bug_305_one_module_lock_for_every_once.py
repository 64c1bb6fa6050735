"""Exercise 2: once_semantics. One asyncio.Lock at module level, held while each handler runs, serialises every once of every bus.

BUG (planted): "That is on the bus it was given to: nothing of it reaches another bus".
A module-level asyncio.Lock guards the check-and-set of every wrapper and is held while
the handler is awaited, so a once-handler on one bus waits for one on another bus to
finish; a handler that awaits an emit reaching another once-handler (any bus) deadlocks:
the inner handler never runs and the outer emit never returns.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_FIRING = asyncio.Lock()  # one handler at a time: concurrent emits cannot both get through


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # checks the name and the priority, registers nothing

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register
    if not callable(handler):
        raise TypeError(f"a handler must be callable, not {handler!r}")

    fired = False

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        async with _FIRING:
            if fired:
                return None
            fired = True
            bus.off(event, wrapper)
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                return await result
            return result

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]  # bus.off(event, handler) finds it
    bus.on(event, wrapper, priority=priority)
    return handler
