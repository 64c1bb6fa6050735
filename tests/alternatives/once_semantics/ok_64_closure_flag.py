"""Exercise 2: once_semantics.

Design: one plain (sync) closure per registration. Its state (the ``fired`` flag) is a
``nonlocal`` of that call to ``once``, so nothing is kept in the module, on the bus or
in the wrapper's ``__dict__``. The wrapper claims itself (flag first, then
``bus.off(event, wrapper)``) before it calls the handler, and hands back whatever the
handler returned, so the bus awaits an awaitable exactly once. ``__wrapped__`` lets
``bus.off(event, handler)`` find it. The decorator form is ``bus.on(event,
priority=...)``'s own decorator, so a refused priority is refused at once, and each use
of the decorator makes a registration of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _wrap(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    """A listener that calls ``handler`` the first time it is called, and never again."""
    fired = False

    def once_wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:  # an emit that took its snapshot before we fired
            return None
        fired = True
        bus.off(event, once_wrapper)  # only our own registration, before anything runs
        return handler(*args, **kwargs)  # the bus awaits it if it is awaitable

    once_wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    return once_wrapper


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    register = bus.on(event, priority=priority)  # checks the event and priority, adds nothing

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        register(_wrap(bus, event, fn))
        return fn

    if handler is None:
        return decorator
    return decorator(handler)
