"""Bug: a handler that is not callable is logged and then dropped (nothing registered, no exception), the lesson's "report it and go on" instead of an error.

Breaks: "A handler that is not callable (`once(bus, "e", 42)`) is left open: refusing it at once with `TypeError`, or leaving it to fail in the emit, are both fine; nothing else is (not another exception such as a `ValueError`, nor dropping it silently)." ... `once(bus, "e", 42)` returns 42 without raising, and `await bus.emit("e")` runs no listener and reports no error: the mistake vanishes into a log line.

Carried over from notebooks/08_error_handling.ipynb, cell 12 (``handle_errors``: log with
``logging.error`` and carry on) and notebooks/06_websocket_connection_events.ipynb, cell 12
(``parse_frame``: "None after telling the sender what is wrong"), where one bad input
must not stop the connection.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

logger = logging.getLogger(__name__)


class _OnceListener:
    """One registration: armed until its first call."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.handler = handler
        self.armed = True

    def listener(self) -> Callable[..., Any]:
        @functools.wraps(self.handler)
        def call(*args: Any, **kwargs: Any) -> Any:
            if not self.armed:
                return None
            self.armed = False
            self.bus.off(self.event, call)
            return self.handler(*args, **kwargs)

        return call


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # validates the priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    if not callable(handler):
        logger.error("once(%r): %r is not callable, nothing registered", event, handler)
        return handler
    bus.on(event, _OnceListener(bus, event, handler).listener(), priority=priority)
    return handler
