"""Style: modelled on the Recorder's ``wrap`` (day25/trace.py): the wrapper keeps the handler's sync or async nature, and each registration claims its one call by popping a one-entry dict.

Follows: "`handler` runs on the next emit of `event`, and never again" (the claim ``ticket.pop(...)`` succeeds once, before the handler is called, so re-entrant and concurrent emits that still hold the wrapper in their snapshot skip it); "after it fired, the bus holds no listener of yours" (``bus.off(event, wrapper)`` with the wrapper itself, under the event or pattern it was given, as soon as it is claimed; never ``bus.off(event, handler)``, so a permanent ``bus.on`` survives); "`bus.off(event, handler)` (with the handler you were given, or an equal one)" cancels (``functools.wraps`` sets ``__wrapped__``); "Cancelling during an emit ... the handler still runs that once" (the claim does not look at the bus); "the same handler given twice makes two registrations" (a ticket per call of ``once``); "all return `handler` itself" and "each use is a registration of its own" (the decorator calls ``once`` anew); "a level name the bus does not know ... in every call form, the decorator too" (the decorator form asks ``bus.on(event, priority=...)`` first, which raises and registers nothing); "gets exactly the positional and keyword arguments" (``*args, **kwargs`` only); "whatever the handler returns that is awaitable is awaited" (a coroutine function is awaited in the async wrapper; anything else is returned to the bus, which awaits an awaitable once); "its exception reaches the bus" (nothing is caught).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _wrap(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    ticket = {"armed": None}

    def claim(wrapper: Callable[..., Any]) -> bool:
        if not ticket:
            return False
        ticket.pop("armed")
        bus.off(event, wrapper)
        return True

    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def wrapper_async(*args: Any, **kwargs: Any) -> Any:
            if not claim(wrapper_async):
                return None
            return await handler(*args, **kwargs)

        return wrapper_async

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not claim(wrapper):
            return None
        return handler(*args, **kwargs)  # the bus awaits it if it is awaitable

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
        bus.on(event, priority=priority)  # bus.on's own checks; without a handler it registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    bus.on(event, _wrap(bus, event, handler), priority=priority)
    return handler
