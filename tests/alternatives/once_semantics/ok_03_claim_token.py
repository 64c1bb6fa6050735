"""OK variant (style: a SYNC wrapper that claims a one-element list with pop()
(the claim is the guard: a second caller finds it empty), takes itself off, and
returns whatever the handler returns; the bus awaits an awaitable a sync listener
returns. ``__wrapped__`` is set by hand.
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
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)
        return register

    token = [handler]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            fn = token.pop()
        except IndexError:  # someone (re-entrant or concurrent emit) already took it
            return None
        bus.off(event, wrapper)
        return fn(*args, **kwargs)  # an awaitable is awaited by the bus

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)
    return handler
