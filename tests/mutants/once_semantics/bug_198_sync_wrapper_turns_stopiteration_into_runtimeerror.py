"""Bug: the sync wrapper catches a ``StopIteration`` from the handler and raises a ``RuntimeError`` from it, taking the PEP 479 allowance for ``async def`` wrappers as the behaviour every wrapper must have.

Breaks: "its exception reaches the bus (do not catch it, do not wrap it in another): ... whatever its type ... The one exception the checks allow is Python's own: a `StopIteration` raised through an `async def` wrapper becomes `RuntimeError` (PEP 479)." ... a sync handler `def h(): raise StopIteration` given to `once` is called by a plain (sync) wrapper, so nothing of Python's turns it into anything: the emit's `result.errors` should hold that StopIteration, but holds a new RuntimeError.
"""

from __future__ import annotations

import functools
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
        bus.on(event, priority=priority)

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    armed = [True]

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not armed:
            return None
        armed.clear()
        bus.off(event, wrapper)
        try:
            # whatever it returns goes back to the bus, which awaits an awaitable once
            return handler(*args, **kwargs)
        except StopIteration as exc:
            # as Python does for a StopIteration that leaves a coroutine (PEP 479)
            raise RuntimeError("once handler raised StopIteration") from exc

    bus.on(event, wrapper, priority=priority)
    return handler
