"""Remembers fired wrappers in a module-level set of id(wrapper) that is never cleaned, so a new wrapper that reuses the id of a collected one counts as already fired and never runs.

Breaks: "**Exactly once**: `handler` runs on the next emit of `event`, and never again." (a handler given again after it fired must fire again; "So a handler that gives itself again fires once per emit.")
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# ids of the once-wrappers that already fired (a set: cheap to test, shared by all)
_FIRED: set[int] = set()


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

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        key = id(wrapper)
        if key in _FIRED:
            return
        _FIRED.add(key)
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
