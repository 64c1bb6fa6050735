"""Bug: the decorator form translates any enum priority to the bus's level of the same name (meant for Nexios' members), while the call form passes the priority on unchanged, so an ``IntEnum`` of the student's own is taken by name in the decorator form.

Breaks: "A member of an `IntEnum` of your own (`URGENT = 10`) is an `int`: the bus takes it by its value, even one named like a level (`HIGH = 9` is 9, not the bus's `HIGH`)." and "the handler runs at `priority` among the event's other listeners, in every call form" ... with `class Level(IntEnum): HIGH = 9`, `bus.on("e", top, priority=5)` then `@once(bus, "e", priority=Level.HIGH)`: the handler runs at 3 (after `top`) instead of 9 (before it); `URGENT = 10` in the decorator form raises `KeyError` instead of registering at 10.
"""

from __future__ import annotations

import enum
import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _level(priority: Any) -> Any:
    """Nexios' EventPriority numbers its levels the other way round: go by the name."""
    if isinstance(priority, enum.Enum) and not isinstance(priority, EventPriority):
        return EventPriority[priority.name]
    return priority


def _arm(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> None:
    fired = False

    def listener(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, listener)
        result = handler(*args, **kwargs)
        return _finish(result) if inspect.isawaitable(result) else None

    functools.update_wrapper(listener, handler)
    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, listener, priority=priority)


async def _finish(awaitable: Any) -> Any:
    return await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is not None:
        _arm(bus, event, handler, priority)
        return handler
    level = _level(priority)
    bus.on(event, priority=level)  # refuse a bool or an unknown name now

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _arm(bus, event, fn, level)
        return fn

    return register
