"""Bug: to skip a needless ``bus.off`` when it was already cancelled, the wrapper remembers only how many listeners the event had after it registered and removes itself only if the count has not dropped, so when another listener of the event was removed in between it stays on the bus after firing.

Breaks: "after it fired, the bus holds no listener of yours for `event` (`len(bus.listeners(event))` is back where it was)." ... `bus.on("e", b)`, `once(bus, "e", a)`, `bus.off("e", b)`, then `await bus.emit("e", 1)`: a runs, but the count (1) is below the 2 it remembered, so its wrapper is not taken off and `len(bus.listeners("e"))` is 1 instead of 0.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


@dataclasses.dataclass(eq=False)
class _Once:
    bus: EventBus
    event: str
    handler: Callable[..., Any]
    fired: bool = False
    listed: int = 0  # len(bus.listeners(event)) right after this registration

    def __post_init__(self) -> None:
        self.__wrapped__ = self.handler  # bus.off(event, handler) finds us by it

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if self.fired:
            return None
        self.fired = True
        # A cancelled registration has already left the bus: then the count is below
        # what it was, and the off (which makes the bus rebuild its plan) is skipped.
        if len(self.bus.listeners(self.event)) >= self.listed:
            self.bus.off(self.event, self)
        return self.handler(*args, **kwargs)  # the bus awaits what is awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    listener = _Once(bus, event, handler)
    bus.on(event, listener, priority=priority)
    listener.listed = len(bus.listeners(event))
    return handler
