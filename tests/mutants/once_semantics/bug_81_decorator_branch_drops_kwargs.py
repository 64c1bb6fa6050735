"""Bug: the decorator form has its own copy of the wrapper, and that copy calls the handler with the positional arguments only.

Breaks: "Arguments: the handler gets exactly the positional and keyword arguments given to emit
... emit("e", 1, 2, k=3) calls handler(1, 2, k=3)" in the form "@once(bus, "e") ... all work".
The call forms pass keywords on; a handler registered with @once(bus, "e") never sees them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        # decorator form: @once(bus, "event")
        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            done = False

            @functools.wraps(fn)
            async def deco_wrapper(*args: Any, **kwargs: Any) -> None:
                nonlocal done
                if done:
                    return
                done = True
                bus.off(event, deco_wrapper)
                result = fn(*args)
                if inspect.isawaitable(result):
                    await result

            bus.on(event, deco_wrapper, priority=priority)
            return fn

        return decorator

    fired = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
