"""Breaks: "its exception reaches the bus (do not catch it, do not wrap it in another)".
The listener catches what a sync handler raises and rewrites its `args` in place with a
"once(...) handler ... failed:" prefix before re-raising. The type and object survive, but the
error the bus receives is not the handler's any more: `str(exc)`, `exc.args` (a KeyError's key,
an OSError's arguments) now carry once's text instead of what the handler raised.
"""

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
        try:
            return call(*args, **kwargs)
        except Exception as exc:
            first = exc.args[0] if exc.args else ""
            exc.args = (f"once({event!r}) handler {call!r} failed: {first}", *exc.args[1:])
            raise

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
