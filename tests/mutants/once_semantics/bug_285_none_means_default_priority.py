"""Exercise 2: once_semantics. A closure wrapper with the default priority hoisted to a module constant.

BUG (planted): "What `bus.on` refuses, `once` refuses too: `priority=True` (a `bool` is no
level to the bus) or `priority=None` raises the `TypeError` that `bus.on` raises, and
registers nothing" (rule 7). The tidy-up hoisted the default level to a module constant
``DEFAULT_PRIORITY`` shared by both call forms and made the parameter default ``None``,
resolved with ``DEFAULT_PRIORITY if priority is None else priority``. So an explicit
``priority=None`` is quietly registered at MEDIUM instead of being refused.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

DEFAULT_PRIORITY = EventPriority.MEDIUM


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority | None = None,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    level = DEFAULT_PRIORITY if priority is None else priority
    if handler is None:
        bus.on(event, priority=level)
        return functools.partial(once, bus, event, priority=level)
    if not callable(handler):
        raise TypeError(f"a handler must be callable, not {handler!r}")
    done = [False]

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if done[0]:
            return None
        done[0] = True
        bus.off(event, wrapper)
        return handler(*args, **kwargs)

    bus.on(event, wrapper, priority=level)
    return handler
