"""Exercise 2: once_semantics: ``once`` built on ``bus.on`` and ``bus.off``.

A plain closure: the wrapper is a sync function that keeps its "fired" flag in the
closure (where no attribute of the handler can reach it), takes itself off the bus
before it calls the handler, and hands back whatever the handler returns: the bus
awaits it once if it is awaitable.
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
        # bus.on without a handler validates the event and the priority now and
        # registers nothing: a bad priority fails here, in the decorator form too.
        bus.on(event, priority=priority)

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register

    if not callable(handler):
        raise TypeError(f"a handler must be callable, not {handler!r}")

    fired = False

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:  # a re-entrant or concurrent emit that still holds us in its snapshot
            return None
        fired = True
        bus.off(event, wrapper)
        return handler(*args, **kwargs)

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]  # bus.off(event, handler)
    bus.on(event, wrapper, priority=priority)
    return handler
