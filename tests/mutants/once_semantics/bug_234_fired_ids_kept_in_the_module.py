"""Breaks: "keep no state by `id` in the module" (rule 1).
The fired flag lives in a module-level set keyed by ``(id(bus), event, id(wrapper))``. An id
is unique only among live objects: a new bus and a new wrapper created where an old pair was
meet the old key, and the new once-handler never fires. Whether CPython reuses both
addresses depends on its allocator, so this scored 25 of 25 in a student's test (stop 58);
the scenarios' module ``id`` (recycled_ids) now reuses them every time.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# (bus id, event, wrapper id) of every once-listener that fired
_FIRED: set[tuple[int, str, int]] = set()


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
        key = (id(bus), event, id(wrapper))
        if key in _FIRED:
            return
        _FIRED.add(key)
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
