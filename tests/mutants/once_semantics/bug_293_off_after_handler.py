"""Exercise 2: once_semantics. A closure wrapper that cleans up in a ``finally`` after the handler.

BUG (planted): "It fired when it was called: its listener is off the bus from then on,
while the handler still runs (and any emit made inside it) too". The wrapper calls the
handler first and takes itself off in ``finally`` (so cleanup happens "whatever the handler
does"); for a sync handler the listener is still on the bus while it runs: the handler, or
a listener of an emit made inside it, sees it in ``bus.listeners(event)``, and that inner
emit's ``EmitResult.ran`` counts it.
"""

from __future__ import annotations

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

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    done = [False]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if done[0]:
            return None
        done[0] = True
        try:
            return handler(*args, **kwargs)
        finally:
            bus.off(event, wrapper)

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)
    return handler
