"""Exercise 2: once_semantics. A sync closure wrapper with one ``try`` around its body.

BUG (planted): "A handler that raises counts as fired (it never runs again), and its
exception reaches the bus (do not catch it, do not wrap it in another): ... whatever its
type" (rule 10). The first version guarded only ``bus.off(event, wrapper)`` with
``except LookupError`` (in case the listener was already taken off, say by a
``bus.off(event, handler)`` during the emit). The tidy-up merged that ``try`` with the
call that followed it into one block, so a handler that raises ``KeyError`` or
``IndexError`` now has its exception swallowed: the emit reports no error.
"""

from __future__ import annotations

import functools
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
        bus.on(event, priority=priority)
        return functools.partial(once, bus, event, priority=priority)
    if not callable(handler):
        raise TypeError(f"a handler must be callable, not {handler!r}")
    fired = False

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        try:
            bus.off(event, wrapper)
            return handler(*args, **kwargs)
        except LookupError:  # already taken off the bus: nothing left to remove
            return None

    bus.on(event, wrapper, priority=priority)
    return handler
