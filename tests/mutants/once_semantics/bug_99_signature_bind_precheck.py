"""Bug: before calling the handler it checks the emit's arguments with ``inspect.signature(handler).bind(...)``, which raises ``ValueError`` for the many builtins that have no signature, so such a handler is never called.

Breaks: "A handler is any callable" ... "Nothing trims them: a handler whose parameters do not fit raises Python's `TypeError`, which counts as its error." ... `settings = {}; once(bus, "settings", settings.update); await bus.emit("settings", theme="dark")` leaves `settings` empty and puts a `ValueError` ("no signature found for builtin") in `result.errors`; the same happens for `max`, `str.format` and other C callables.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceCall:
    """The listener registered on the bus: calls its handler the first time only."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.handler = handler
        self.fired = False
        functools.update_wrapper(self, handler)  # __wrapped__: bus.off(event, handler) finds us

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if self.fired:
            return None
        self.fired = True
        self.bus.off(self.event, self)
        # Arguments that do not fit the handler: Python's own TypeError, raised here
        # with the handler's signature, before any of its code runs.
        inspect.signature(self.handler).bind(*args, **kwargs)
        return self.handler(*args, **kwargs)


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

        return decorator
    bus.on(event, _OnceCall(bus, event, handler), priority=priority)
    return handler
