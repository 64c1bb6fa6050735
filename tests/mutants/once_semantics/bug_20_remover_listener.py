"""BUG: no wrapper at all: registers ``handler`` itself with bus.on, plus a LOWEST
priority "remover" listener that takes both off after the emit's other listeners
ran. Nothing guards the handler while the emit is running: a re-entrant emit (from
a listener or from the handler itself) and concurrent emits under gather all call
it again, and cancelling with ``bus.off(event, handler)`` leaves the remover
behind.

Violates rules 2 and 3: "the handler still runs only once" / "runs the handler
once in total" (and rule 5 after a cancel: "`len(bus.listeners(event))` is back
where it was").
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
        return lambda fn: once(bus, event, fn, priority=priority)

    def remover(*args: Any, **kwargs: Any) -> None:
        bus.off(event, handler)
        bus.off(event, remover)

    bus.on(event, handler, priority=priority)
    bus.on(event, remover, priority=EventPriority.LOWEST)
    return handler
