"""Style: a plain (sync) closure listener that claims a one-item ticket list and hands whatever the handler returns back to the bus, which awaits it if it is awaitable."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _arm(bus: EventBus, event: str, priority: Any, handler: Callable[..., Any]) -> Any:
    """Register one once-listener for ``handler``; return ``handler``."""
    ticket = [handler]  # one ticket: whoever pops it first is the one call

    def listener(*args: Any, **kwargs: Any) -> Any:
        if not ticket:
            return None  # an emit that took its snapshot before we left the bus
        call = ticket.pop()
        bus.off(event, listener)  # only this listener, never the handler itself
        # A sync listener may return an awaitable: the bus awaits it (once).
        return call(*args, **kwargs)

    functools.update_wrapper(listener, handler)  # __wrapped__: bus.off(event, handler) finds us
    bus.on(event, listener, priority=priority)
    return handler


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def register(fn: Callable[..., Any]) -> Any:
            return _arm(bus, event, priority, fn)

        return register
    return _arm(bus, event, priority, handler)
