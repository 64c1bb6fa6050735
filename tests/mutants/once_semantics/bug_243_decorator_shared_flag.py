"""
BUG (rule 6, Decorator or call): "The decorator may be used more than once (`register = once(bus,
"e")`, then `register(f)` and `register(g)`, or `register(f)` again): each use is a
registration of its own, as a call is." The fired flag lives in `once`'s own frame and the
decorator it returns closes over it, so every handler registered through ONE decorator object
shares one flag: only the first of them to be called runs; the others never run (and their
wrappers stay on the bus). The call form and a decorator used once are correct.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    fired = False

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> None:
            nonlocal fired
            if fired:
                return
            fired = True
            bus.off(event, wrapper)
            result = fn(*args, **kwargs)
            if inspect.isawaitable(result):
                await result

        bus.on(event, wrapper, priority=priority)
        return fn

    if handler is None:
        return register
    return register(handler)
