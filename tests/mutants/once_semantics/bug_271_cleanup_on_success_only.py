"""Exercise 2: once_semantics. A sync closure that calls the handler, then takes itself off the bus.

BUG (planted): "A handler that raises counts as fired (it never runs again)" and "after it
fired, the bus holds no listener of yours for `event` (`len(bus.listeners(event))` is back
where it was)." This version removes its listener only after the handler returned
normally: a handler that raises skips the ``bus.off`` line, so its listener outlives the
emit (it stays on the bus, counted by ``bus.listeners``, until some later emit happens to
reach it and the "already fired" branch sweeps it away). A student writes "call, then
clean up" in that order and only tests handlers that succeed.
"""

from __future__ import annotations

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
        bus.on(event, priority=priority)  # refuse a bad priority now, as bus.on does
        return lambda fn: once(bus, event, fn, priority=priority)
    if not callable(handler):
        raise TypeError(f"once() needs a callable, not {handler!r}")

    called = False

    def listener(*args: Any, **kwargs: Any) -> Any:
        nonlocal called
        if called:  # reached through an older snapshot: make sure we are gone
            bus.off(event, listener)
            return None
        called = True
        result = handler(*args, **kwargs)
        bus.off(event, listener)  # done with it: take our own listener off
        return result  # the bus awaits it if it is awaitable

    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, listener, priority=priority)
    return handler
