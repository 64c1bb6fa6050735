"""
CORRECT (alternative design): a plain (sync) wrapper. On its first call it flips a flag kept
in a one-element list of the closure, takes itself off the bus, calls the handler and RETURNS
what the handler returned when it is awaitable (`inspect.isawaitable`), so the bus awaits it
exactly once; anything else is dropped. The flag is set before the handler runs (re-entrant,
concurrent, raising and cancelled calls all count as fired). The decorator is a nested
function that calls `once` again for each handler it is given. (Rule 15: a sync wrapper may
make the emit eager; both styles are allowed.)
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
    if handler is None:

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorate

    done = [False]

    @functools.wraps(handler)
    def listener(*args: Any, **kwargs: Any) -> Any:
        if done[0]:
            return None
        done[0] = True
        bus.off(event, listener)
        value = handler(*args, **kwargs)
        return value if inspect.isawaitable(value) else None

    bus.on(event, listener, priority=priority)
    return handler
