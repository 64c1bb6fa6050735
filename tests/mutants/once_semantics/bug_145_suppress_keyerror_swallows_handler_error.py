"""Bug: the ``contextlib.suppress(KeyError)`` meant for the "already fired" claim also wraps the handler call, so a sync handler's own ``KeyError`` is silently swallowed.

Breaks: "**A handler that raises** counts as fired (it never runs again), and its exception reaches the bus (do not catch it, do not wrap it in another)" ... a sync handler doing ``settings["missing"]`` (``KeyError``) under ``once(bus, "e", handler)``: ``await bus.emit("e")`` returns ``result.errors == ()`` instead of holding that ``KeyError``.
"""

from __future__ import annotations

import contextlib
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

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register

    ticket = object()
    armed = {ticket}  # one ticket per registration; set.remove raises KeyError once it is gone

    def listener(*args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(KeyError):  # KeyError: an earlier call already took the ticket
            armed.remove(ticket)
            bus.off(event, listener)  # only this wrapper, before anything can re-emit
            return handler(*args, **kwargs)  # the bus awaits it if it is awaitable
        return None

    functools.update_wrapper(listener, handler)  # __wrapped__: bus.off(event, handler) finds it
    bus.on(event, listener, priority=priority)
    return handler
