"""Exercise 2: once_semantics. The wrapper takes itself off the bus only after the handler has finished.

BUG (planted): "It fired when it was called: its listener is off the bus from then on,
while the handler still runs". The wrapper sets its flag at once but calls bus.off only
in a `finally` after awaiting the handler, so while an async handler awaits (or a sync
one runs) the wrapper is still listed: len(bus.listeners(event)) is not back where it
was until the handler is done (forever, if it never finishes).
"""

from __future__ import annotations

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
        bus.on(event, priority=priority)  # checks the name and the priority, registers nothing

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register
    if not callable(handler):
        raise TypeError(f"a handler must be callable, not {handler!r}")

    fired = False

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                return await result
            return result
        finally:
            bus.off(event, wrapper)  # it has run: take it off the bus

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]  # bus.off(event, handler) finds it
    bus.on(event, wrapper, priority=priority)
    return handler
