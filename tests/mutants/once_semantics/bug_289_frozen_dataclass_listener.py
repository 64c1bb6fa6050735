"""Exercise 2: once_semantics. A frozen ``@dataclass`` listener whose fired flag is a one-item list.

BUG (planted): "`once(bus, event, handler)` called by a listener (or by the handler
itself) while an emit of `event` runs counts from the next emit, like any `bus.on` then
(snapshot)" (rule 13). The tidy-up turned the closure into a ``@dataclass(frozen=True)``
(bus, event, handler; the flag in a ``field(compare=False)`` list) "so nothing can
reassign its fields". Frozen with ``eq`` makes it hash and compare by (bus, event,
handler): two registrations of one handler on one event are equal, and the first one's
``bus.off(event, self)`` also removes the second. A registration made while the first
one's emit runs is dropped when the first fires, and never runs on the next emit.
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
    handler: Callable[..., Any]
    fired: list[bool] = field(default_factory=lambda: [False], compare=False)

    @property
    def __wrapped__(self) -> Callable[..., Any]:  # what bus.off(event, handler) looks for
        return self.handler

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fired[0]:
            return None
        self.fired[0] = True
        self.bus.off(self.event, self)
        return self.handler(*args, **kwargs)


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
        raise TypeError(f"a handler must be callable, not {handler!r}")
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
