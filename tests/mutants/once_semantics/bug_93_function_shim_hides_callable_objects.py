"""Bug: handlers that are not plain functions (bound methods, callable objects, builtins) get a function shim first, so the listener's __wrapped__ is the shim and bus.off(event, handler) no longer finds it.

Breaks: "Cancelling: `bus.off(event, handler)` (with the handler you were given, or an equal
one such as a new `obj.handle` of the same object; not any wrapper of yours) before the event
is emitted means it never runs." and "`bus.off(event, handler)` cancels both" (rule 11): for
`obj.handle`, a `@dataclass` with a `__call__`, or `calls.append`, the off matches nothing.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _as_function(handler: Callable[..., Any]) -> Callable[..., Any]:
    """``handler`` as a plain function, so that the listener below always wraps a function
    (callable objects and builtins have no ``__name__``/``__qualname__``/``__dict__`` of
    their own to copy)."""
    if inspect.isfunction(handler):
        return handler

    @functools.wraps(handler)
    def call(*args: Any, **kwargs: Any) -> Any:
        return handler(*args, **kwargs)

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
        return lambda fn: once(bus, event, fn, priority=priority)

    target = _as_function(handler)
    fired = False

    @functools.wraps(target)  # __wrapped__ is what bus.off(event, handler) looks for
    def listener(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, listener)
        return target(*args, **kwargs)  # the bus awaits an awaitable result, once

    bus.on(event, listener, priority=priority)
    return handler
