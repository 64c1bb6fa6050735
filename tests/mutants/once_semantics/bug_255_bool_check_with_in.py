"""Bug: in the decorator form (where `bus.on` is not called until a function arrives), `once` checks the priority itself and rejects `priority in (None, True, False)`; but `1 == True` and `0 == False`, so the valid levels `EventPriority.LOW` and `LOWEST`, and the ints `1` and `0`, are refused with `TypeError` there.

Breaks: "A priority is anything `bus.on` takes: an `EventPriority` member, a plain `int` ... pass it on unchanged." ... "in every call form (`@once(bus, "e", priority=EventPriority.HIGH)` too)": `@once(bus, "e", priority=EventPriority.LOW)` (or `priority=0`) raises `TypeError` and registers nothing, where `once(bus, "e", h, priority=EventPriority.LOW)` and `bus.on` take it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _check_priority(priority: Any) -> None:
    """Refuse, before anything is registered, what bus.on would refuse."""
    if priority in (None, True, False):
        raise TypeError(f"priority must be an EventPriority, a level name or an int, not {priority!r}")
    if isinstance(priority, str) and priority.strip().upper() not in EventPriority.__members__:
        raise ValueError(f"unknown priority {priority!r}")


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        _check_priority(priority)  # the call form gets bus.on's own check below

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = False

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:  # a re-entrant or concurrent emit still holding us in its snapshot
            return None
        fired = True
        bus.off(event, wrapper)
        return handler(*args, **kwargs)

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]  # bus.off(event, handler)
    bus.on(event, wrapper, priority=priority)
    return handler
