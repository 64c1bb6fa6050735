"""BUG: builds the one-shot wrapper once per (bus, event, handler) and caches it
("no need to build the same wrapper twice"). ``once`` of the same handler twice
registers the SAME wrapper object twice, and the two registrations share its
``fired`` flag: the first call fires, the second sees the flag and returns, so
the handler runs once instead of twice. (The cache also keeps every handler and
bus alive.)

Violates rule 11: "**The same handler given twice** makes two registrations: each
fires once, so the handler runs twice on the next emit and never after".
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_wrappers: dict[tuple[int, str, Any], Callable[..., Any]] = {}


def _one_shot(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    key = (id(bus), event, handler)
    cached = _wrappers.get(key)
    if cached is not None and not getattr(cached, "fired", False):
        return cached

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if wrapper.fired:
            return
        wrapper.fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    wrapper.fired = False
    _wrappers[key] = wrapper
    return wrapper


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

    bus.on(event, _one_shot(bus, event, handler), priority=priority)
    return handler
