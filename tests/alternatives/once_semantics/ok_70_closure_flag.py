"""Exercise 2: once_semantics.

A closure design: each registration gets a fresh sync wrapper function whose
``fired`` flag lives in a ``nonlocal`` cell (where no copied attribute can reach
it). The wrapper sets the flag, takes itself off with ``bus.off(event, wrapper)``
and returns whatever the handler returns, so the bus awaits an awaitable. Its
``__wrapped__`` is the handler, so ``bus.off(event, handler)`` cancels it. The
decorator form checks the priority at once with ``bus.on(event, priority=...)``
(which registers nothing without a handler).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _register(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> None:
    fired = False

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        return handler(*args, **kwargs)

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
        bus.on(event, priority=priority)  # validates name and priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            _register(bus, event, fn, priority)
            return fn

        return decorator
    if not callable(handler):
        raise TypeError(f"once() needs a callable handler, not {handler!r}")
    _register(bus, event, handler, priority)
    return handler
