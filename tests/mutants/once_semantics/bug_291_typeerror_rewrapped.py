"""Exercise 2: once_semantics. A closure wrapper that gives argument mismatches a friendlier message.

BUG (planted): "its exception reaches the bus (do not catch it, do not wrap it in
another): the bus ... returns that very exception in the emit's result". The wrapper catches
``TypeError`` (meant for handlers whose parameters do not fit the emit) and raises a new
``TypeError`` naming the event ``from`` it, so ``result.errors`` holds the wrapper's
exception, not the handler's: a handler's own ``TypeError`` subclass arrives as a plain
``TypeError`` with another message, and is not the object the handler raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _register(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> None:
    state = {"fired": False}

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if state["fired"]:
            return None
        state["fired"] = True
        bus.off(event, wrapper)
        try:
            return handler(*args, **kwargs)
        except TypeError as exc:
            name = getattr(handler, "__qualname__", repr(handler))
            raise TypeError(f"once handler {name} for {event!r} failed: {exc}") from exc

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)


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
            _register(bus, event, fn, priority)
            return fn

        return decorator
    _register(bus, event, handler, priority)
    return handler
