"""Bug: the released handler reference doubles as the fired flag, tested with `if not target`, so a falsy handler never runs.

Breaks: "A handler is any callable, a falsy one too (an empty collection with a
`__call__`), and one without a hash" and "Exactly once: `handler` runs on the next emit of
`event`" (a falsy handler is skipped on every emit, and its listener stays on the bus:
"after it fired, the bus holds no listener of yours for `event`").
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

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    # The listener holds the handler until it fires, then lets go of it: a fired
    # once keeps nothing alive, and "nothing to call" is also the fired flag.
    pending: Callable[..., Any] | None = handler

    @functools.wraps(handler)
    def listener(*args: Any, **kwargs: Any) -> Any:
        nonlocal pending
        target = pending
        if not target:  # already fired (by a re-entrant or concurrent emit)
            return None
        pending = None
        bus.off(event, listener)  # this registration only; bus.off(event, handler) finds it too
        return target(*args, **kwargs)  # the bus awaits an awaitable result, once

    bus.on(event, listener, priority=priority)
    return handler
