"""Bug: the one-shot listener class stores the event name as a class attribute, so every instance removes itself from the event of the most recent once call; a listener fired on another event stays on the bus.

Breaks rule 5: "after it fired, the bus holds no listener of yours for `event` (`len(bus.listeners(event))` is back where it was)."
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class OnceCall:
    bus: EventBus | None = None
    event: str = ""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        OnceCall.bus = bus
        OnceCall.event = event
        self.handler = handler
        self.fired = False
        functools.update_wrapper(self, handler)

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self.fired:
            return
        self.fired = True
        assert self.bus is not None
        self.bus.off(self.event, self)
        result = self.handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)
        return register
    bus.on(event, OnceCall(bus, event, handler), priority=priority)
    return handler
