"""Exercise 2: once_semantics. An async wrapper that tidies up in a ``finally`` once the handler is done.

BUG (planted): "It fired when it was called: its listener is off the bus from then on,
while the handler still runs (and any emit made inside it) too, whatever other handlers
are still running." This version sets its flag first but only calls
``bus.off(event, wrapper)`` in the ``finally`` after it has awaited the handler, so for as
long as an async handler runs its listener is still on the bus (``bus.listeners(event)``
counts it, an emit made meanwhile still calls it). A student writes it that way because a
``finally`` feels like the safe home for cleanup ("it runs even if the handler raises")
and the flag already stops a second run.
"""

from __future__ import annotations

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

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        bus.on(event, priority=priority)  # let bus.on refuse a bad event or priority now
        return decorator

    done = False

    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal done
        if done:  # a snapshot taken before we fired
            return
        done = True
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        finally:
            bus.off(event, wrapper)  # always clean up, even if the handler raised

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)
    return handler
