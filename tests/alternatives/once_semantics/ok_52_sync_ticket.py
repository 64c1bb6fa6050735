"""Style: a plain sync wrapper that pops a one-item ticket deque and hands the handler's result back for the bus to await."""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _arm(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> None:
    ticket: deque[Callable[..., Any]] = deque([handler])

    @functools.wraps(handler)
    def fire_once(*args: Any, **kwargs: Any) -> Any:
        try:
            fn = ticket.popleft()
        except IndexError:
            return None  # spent: a re-entrant or concurrent emit still had us
        bus.off(event, fire_once)
        # whatever fn returns goes back to the bus, which awaits it (once) when it is
        # awaitable and leaves any other value alone
        return fn(*args, **kwargs)

    bus.on(event, fire_once, priority=priority)


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
            _arm(bus, event, fn, priority)
            return fn

        return register
    _arm(bus, event, handler, priority)
    return handler
