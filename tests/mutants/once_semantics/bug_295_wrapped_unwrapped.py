"""Exercise 2: once_semantics. A closure wrapper that points ``__wrapped__`` at the innermost function.

BUG (planted): "`bus.off(event, handler)` (with the handler you were given, or an equal
one ...) before the event is emitted means it never runs". The wrapper's ``__wrapped__`` is
``getattr(handler, "__wrapped__", handler)`` (meant to "see through" decorators, as
``functools.wraps`` chains do), so for a handler that is itself a decorated function the bus
files the once-listener under the inner function: ``bus.off(event, handler)`` with the
handler the caller gave finds nothing, and the handler runs on the next emit anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _make_wrapper(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    fired = False

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        return handler(*args, **kwargs)

    wrapper.__wrapped__ = getattr(handler, "__wrapped__", handler)  # type: ignore[attr-defined]
    return wrapper


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            bus.on(event, _make_wrapper(bus, event, fn), priority=priority)
            return fn

        return decorator
    bus.on(event, _make_wrapper(bus, event, handler), priority=priority)
    return handler
