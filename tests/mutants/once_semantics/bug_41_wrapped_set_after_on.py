"""Bug: registers the wrapper with bus.on first and only then applies functools.update_wrapper, but the bus files a listener under what it wraps when it is registered, so bus.off(event, handler) does not find it.

Breaks rule 4: "`bus.off(event, handler)` (with the handler you were given, or an equal one ...; not any wrapper of yours) before the event is emitted means it never runs."
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Guard:
    def __init__(self) -> None:
        self.used = False

    def claim(self) -> bool:
        if self.used:
            return False
        self.used = True
        return True


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return functools.partial(once, bus, event, priority=priority)

    guard = _Guard()

    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if not guard.claim():
            return
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    functools.update_wrapper(wrapper, handler)
    return handler
