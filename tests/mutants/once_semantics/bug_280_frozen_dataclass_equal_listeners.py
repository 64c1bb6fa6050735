"""Exercise 2: once_semantics. A frozen ``@dataclass`` listener, its fired flag in a box excluded from comparison.

BUG (planted): the page says "one a listener cancels and gives again at once runs in
that emit (the old registration, in its snapshot) and in the next (the new one)" and
"your `once` removes only its own wrapper (`bus.off(event, wrapper)`)". This version's
listener is a ``@dataclass(frozen=True)``, which compares and hashes by its fields
(bus, event, handler): two registrations of the same handler on one event are *equal*,
so the bus, which finds listeners by equality, files them as one, and the old
registration's ``bus.off(event, self)`` also removes the new one: given again during
an emit, the handler runs in that emit but not in the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventBus, EventPriority


@dataclass(frozen=True)
class _OnceListener:
    bus: EventBus
    event: str
    __wrapped__: Callable[..., Any]
    fired: list[bool] = field(default_factory=lambda: [False], compare=False, repr=False)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fired[0]:
            return None
        self.fired[0] = True
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
    if handler is None:
        bus.on(event, priority=priority)

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register
    if not callable(handler):
        raise TypeError(f"handler must be callable: {handler!r}")
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
