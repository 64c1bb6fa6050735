"""Exercise 2: once_semantics. A wrapper class; the priority is normalised to a plain value up front.

BUG (planted): "a member of Nexios' own `nexios.events.EventPriority` (whose values run
the other way: `HIGHEST` is 1; the bus goes by its name); pass it on unchanged". To store a
plain number for the decorator, ``once`` turns any enum member into its ``.value``: the
bus's own members and ``IntEnum``s keep their number, but Nexios' ``HIGHEST`` becomes ``1``
(the bus's ``LOW``), so the other listeners of the event hear it before the once-handler,
the reverse of the order asked for.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Once:
    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.fired = False
        self.__wrapped__ = handler

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fired:
            return None
        self.fired = True
        self.bus.off(self.event, self)
        return self.__wrapped__(*args, **kwargs)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    level: Any = priority.value if isinstance(priority, enum.Enum) else priority
    bus.on(event, priority=level)  # validate now: raises what bus.on raises

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        bus.on(event, _Once(bus, event, fn), priority=level)
        return fn

    if handler is None:
        return register
    return register(handler)
