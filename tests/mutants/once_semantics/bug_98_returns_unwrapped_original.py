"""Bug: it returns ``inspect.unwrap`` of its wrapper, which follows ``__wrapped__`` through the handler's own decorators as well, so a decorated handler comes back as the bare function underneath.

Breaks: "`once(bus, "e", handler)`, `once(bus=bus, event="e", handler=handler)` and `@once(bus, "e")` all work, each with or without `priority=`, and all return `handler` itself." ... For a handler built with `functools.wraps` (a `@functools.cache` function, a logging decorator), `once(bus, "e", cached) is cached` is False, and `@once(bus, "e")` stacked on `@functools.cache` rebinds the name to the uncached inner function.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _original(wrapper: Callable[..., Any]) -> Callable[..., Any]:
    """What the caller gave us: the function behind our wrapper."""
    return inspect.unwrap(wrapper)


def _register(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> Any:
    state = {"fired": False}

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if state["fired"]:
            return None
        state["fired"] = True
        bus.off(event, wrapper)  # only this wrapper: a plain bus.on of handler stays
        return handler(*args, **kwargs)  # the bus awaits it if it is awaitable

    bus.on(event, wrapper, priority=priority)
    return _original(wrapper)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return lambda fn: _register(bus, event, fn, priority)
    return _register(bus, event, handler, priority)
