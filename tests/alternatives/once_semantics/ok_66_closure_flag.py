"""Exercise 2: once_semantics.

A closure per registration: ``once`` wraps the handler in a small sync function
whose ``fired`` flag lives in the closure (a ``nonlocal``, out of reach of any
attribute the handler carries). On its first call the wrapper sets the flag,
takes itself off the bus with ``bus.off(event, wrapper)`` and returns what the
handler returns (the bus awaits it if it is awaitable). ``__wrapped__`` points
at the handler so that ``bus.off(event, handler)`` cancels it. The decorator
form asks ``bus.on`` for its decorator first, so that a priority or an event
name the bus refuses is refused at once, and registers nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _register(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> None:
    fired = False

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:  # an emit that listed it before it fired (re-entrant or concurrent)
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
        bus.on(event, priority=priority)  # validates event and priority; registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            if not callable(fn):
                raise TypeError(f"a listener must be callable, not {fn!r}")
            _register(bus, event, fn, priority)
            return fn

        return decorator
    if not callable(handler):
        raise TypeError(f"a listener must be callable, not {handler!r}")
    _register(bus, event, handler, priority)
    return handler
