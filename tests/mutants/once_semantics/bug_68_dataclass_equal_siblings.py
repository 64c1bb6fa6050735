"""Dataclass wrapper made hashable with unsafe_hash and the fired flag left out of comparison, so two pending once-listeners of the same handler, event and priority are equal and one removing itself with bus.off removes the other too.

Breaks: "`once(bus, event, handler)` called by a listener (or by the handler itself) while an emit of `event` runs counts from the next emit, like any `bus.on` then (snapshot)."
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventBus, EventPriority


@dataclass(unsafe_hash=True)
class OnceListener:
    bus: EventBus
    event: str
    handler: Callable[..., Any]
    priority: Any
    fired: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        self.__wrapped__ = self.handler  # how bus.off(event, handler) finds us

    async def __call__(self, /, *args: Any, **kwargs: Any) -> None:
        if self.fired:
            return
        self.fired = True
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
    listener = OnceListener(bus, event, handler, priority)
    bus.on(event, listener, priority=priority)
    return handler
