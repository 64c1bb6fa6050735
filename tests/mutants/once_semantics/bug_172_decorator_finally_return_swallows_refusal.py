"""Bug: the decorator hands the function back with ``return fn`` inside ``finally``, which swallows any exception of the registration, so in the decorator form a refused priority (or event, or handler) registers nothing and raises nothing.

Breaks: "What `bus.on` refuses, `once` refuses too: `priority=True` (a `bool` is no level to the bus) raises the `TypeError` that `bus.on` raises, and registers nothing" (rule 7: "in every call form") ... `@once(bus, "e", priority=True)` on `def f(x)` raises nothing and silently leaves `f` unregistered; the call form `once(bus, "e", f, priority=True)` does raise.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _register(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> None:
    if not callable(handler):
        raise TypeError(f"a listener must be callable, not {handler!r}")
    fired = False

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        return handler(*args, **kwargs)

    bus.on(event, wrapper, priority=priority)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is not None:
        _register(bus, event, handler, priority)
        return handler

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        try:
            _register(bus, event, fn, priority)
        finally:
            return fn  # a decorator must always give the function back

    return decorator
