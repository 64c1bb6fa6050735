"""BUG: remembers what already fired in a MODULE-LEVEL set keyed by
(event, handler) instead of per once() call. After a handler fired once for an
event, any later ``once(..., event, handler)`` (on the same bus or on a new bus)
is registered but never runs: its wrapper finds the key and returns.

Violates rule 1: "**Exactly once**: `handler` runs on the next emit of `event`"
(each once() call must fire on its next emit) and rule 11: "**The same handler
given twice** makes two registrations: each fires once".

(Re-checked under the re-specified text: still a bug.)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_fired: set[tuple[str, Callable[..., Any]]] = set()


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

    key = (event, handler)

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        bus.off(event, wrapper)
        if key in _fired:
            return
        _fired.add(key)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
