"""BUG: "guards against double registration": a module-level set remembers which
(bus, event, handler) already has a pending once, and a second ``once`` of the
same handler on the same bus and event is ignored while the first is pending. The
handler then runs once on the next emit instead of twice.

Violates rule 11: "**The same handler given twice** makes two registrations: each
fires once, so the handler runs twice on the next emit and never after".
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_pending: set[tuple[int, str, Any]] = set()


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

    key = (id(bus), event, handler)
    if key in _pending:
        return handler  # already armed: do not register it twice
    _pending.add(key)
    fired = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        _pending.discard(key)
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
