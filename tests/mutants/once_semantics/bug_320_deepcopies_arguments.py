"""Exercise 2: once_semantics. The handler gets deep copies of the emit's arguments, not the objects emitted.

BUG (planted): "the handler gets exactly the positional and keyword arguments given to
`emit`". So that a handler cannot change the payload the other listeners see, the wrapper
passes copy.deepcopy of the arguments: the handler gets different objects (its changes are
lost, `is` fails), and a payload that cannot be deep-copied (a lock) makes it fail.
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _settle(awaitable: Any) -> None:
    """Await what the handler returned, once."""
    await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # checks event and priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = False

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        # the other listeners of this emit share the payload: the handler gets its own copy
        result = handler(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        if inspect.isawaitable(result):
            return _settle(result)
        return None

    bus.on(event, wrapper, priority=priority)
    return handler
