"""Bug: `once` called while the same event is being emitted defers its `bus.on` with `call_soon`, so it misses emits that start before the loop gets round to it.

Breaks: "Given while an emit runs: `once(bus, event, handler)` called by a listener (or by
the handler itself) while an emit of `event` runs counts from the next emit, like any
`bus.on` then (snapshot). So a handler that gives itself again fires once per emit." The bus's
snapshot already keeps it out of the emit under way; deferring the registration makes the
next emit (awaited right after, with no pass of the event loop in between) miss it, and
`len(bus.listeners(event))` is short meanwhile.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority, current_event


def _emitting(event: str) -> bool:
    """Whether we are inside a listener of an emit of ``event``."""
    try:
        return current_event() == event
    except RuntimeError:  # not inside a listener at all
        return False


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

    fired = False

    @functools.wraps(handler)
    def listener(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, listener)
        return handler(*args, **kwargs)  # an awaitable result is awaited by the bus, once

    register = functools.partial(bus.on, event, listener, priority=priority)
    if _emitting(event):
        # Given during an emit of this very event: it must count from the *next* emit,
        # so register only after the emit under way has moved on.
        asyncio.get_running_loop().call_soon(register)
    else:
        register()
    return handler
