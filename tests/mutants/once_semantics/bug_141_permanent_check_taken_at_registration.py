"""Bug: whether a permanent ``bus.on`` of the same handler exists is checked once, when ``once`` is called, and if there was none the wrapper later removes itself with ``bus.off(event, handler)`` (one off for every once-wrapper of the handler), which also takes off a permanent listener added after the ``once``.

Breaks: "A permanent listener survives: `bus.on(event, handler)` and `once(bus, event, handler)` together run the handler twice on the next emit, and the `on` one keeps running after: your `once` removes only its own wrapper (`bus.off(event, wrapper)`, never `bus.off(event, handler)`)." ... `once(bus, "e", h)` then `bus.on("e", h)`, then two emits: h runs twice on the first, but the permanent listener is gone, so h does not run on the second (a `once(bus, "e", h)` given by a listener during the first emit is removed the same way and never fires).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _same(listener: Callable[..., Any], handler: Callable[..., Any]) -> bool:
    return listener is handler or listener == handler


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

    # Removing by handler takes off every once-wrapper of it in one call (the same
    # handler given twice), which is cheaper than one off per wrapper; that is
    # only unsafe when a permanent bus.on of the handler shares the event.
    permanent = any(_same(listener, handler) for listener in bus.listeners(event))
    fired = False

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper if permanent else handler)
        return handler(*args, **kwargs)  # an awaitable goes back to the bus, which awaits it

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)
    return handler
