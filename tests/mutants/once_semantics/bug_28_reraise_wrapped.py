"""BUG: the wrapper catches the handler's exception and raises its own
``RuntimeError(f"once-handler {name} failed")`` from it, "to say which once
failed". The bus records the RuntimeError, not the handler's exception: a caller
looking for the ValueError the handler raised in ``result.errors`` does not find it.

Violates rule 10: "its exception reaches the bus (do not catch it): the bus [...]
returns the exception in the emit's result, as for any listener."
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
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return lambda fn: once(bus, event, fn, priority=priority)

    fired = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            name = getattr(handler, "__qualname__", repr(handler))
            raise RuntimeError(f"once-handler {name} for {event!r} failed") from exc

    bus.on(event, wrapper, priority=priority)
    return handler
