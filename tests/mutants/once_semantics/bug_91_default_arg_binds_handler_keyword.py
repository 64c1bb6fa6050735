"""Bug: the wrapper freezes the handler with a default argument (`handler=handler`), so an emit keyword named `handler` is swallowed by the wrapper.

Breaks: "Arguments: the handler gets exactly the positional and keyword arguments given to
`emit`, however many and whatever their names ... (so a wrapper of yours takes `*args,
**kwargs` only: a parameter of its own named `event` would catch that keyword ...)".
`emit("e", 1, handler="x")` calls `"x"(1)` (a TypeError) instead of `handler(1, handler="x")`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _listener_for(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    """The one-shot listener registered for ``handler``."""
    state = {"fired": False}

    # Default arguments are evaluated now: the listener keeps *this* handler, whatever
    # the name `handler` refers to later (the classic late-binding closure trap).
    @functools.wraps(handler)
    def listener(*args: Any, handler: Callable[..., Any] = handler, **kwargs: Any) -> Any:
        if state["fired"]:
            return None
        state["fired"] = True
        bus.off(event, listener)
        result = handler(*args, **kwargs)
        # The listener is sync: hand an awaitable back to the bus, which awaits it once.
        return result if inspect.isawaitable(result) else None

    return listener


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return functools.partial(once, bus, event, priority=priority)
    bus.on(event, _listener_for(bus, event, handler), priority=priority)
    return handler
