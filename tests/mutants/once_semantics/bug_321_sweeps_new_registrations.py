"""Exercise 2: once_semantics. After the handler returns, every once-registration of it on the event is swept off the bus.

BUG (planted): "So a handler that gives itself again fires once per emit, and one a
listener cancels and gives again at once runs in that emit (the old registration, in its
snapshot) and in the next (the new one)." To be sure nothing of its own is left behind
(rule 5), the wrapper, after calling the handler, also takes off the bus every other
once-wrapper of the same handler on the event, so a registration made while the handler
ran (it gives itself again) is removed and never fires.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_MARK = "_once_semantics_of"  # set after functools.wraps, so the handler's own attributes cannot replace it


async def _settle(awaitable: Any) -> None:
    """Await what the handler returned, once."""
    await awaitable


def _sweep(bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
    """Take off ``event`` any once-wrapper of ``handler`` still there (never a plain bus.on)."""
    for listener in bus.listeners(event):
        if getattr(listener, _MARK, None) is handler:
            bus.off(event, listener)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # checks event and priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = False

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        try:
            result = handler(*args, **kwargs)
        finally:
            _sweep(bus, event, handler)  # nothing of ours left behind, whatever the handler did
        if inspect.isawaitable(result):
            return _settle(result)
        return None

    setattr(wrapper, _MARK, handler)
    bus.on(event, wrapper, priority=priority)
    return handler
