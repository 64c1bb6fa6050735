"""Bug: a level name is turned into an ``EventPriority`` member with ``EventPriority[name.upper()]`` before it reaches ``bus.on``, so a name the bus does not know raises ``KeyError`` instead of ``bus.on``'s ``ValueError`` (and a name the bus would take, such as ``" high"``, is refused).

Breaks: "What `bus.on` refuses, `once` refuses too: ... so does a level name the bus does not know (`"urgent"`, a typo), with `bus.on`'s `ValueError`" and "a level name such as `"high"` ...; pass it on unchanged." ... `once(bus, "e", h, priority="urgent")` raises KeyError('URGENT'), which is no ValueError; `once(bus, "e", h, priority=" high")` raises KeyError where `bus.on` registers at HIGH.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventBus, EventPriority


def _as_level(priority: Any) -> Any:
    """A level name such as "high" becomes the member the bus sorts by."""
    if isinstance(priority, str):
        return EventPriority[priority.upper()]
    return priority


@dataclass(eq=False)
class _Registration:
    bus: EventBus
    event: str
    handler: Callable[..., Any]
    live: bool = field(default=True)

    def listener(self) -> Callable[..., Any]:
        @functools.wraps(self.handler)
        async def call(*args: Any, **kwargs: Any) -> None:
            if not self.live:
                return
            self.live = False
            self.bus.off(self.event, call)
            result = self.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result

        return call


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    level = _as_level(priority)
    if handler is None:
        bus.on(event, priority=level)

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=level)

        return register
    bus.on(event, _Registration(bus, event, handler).listener(), priority=level)
    return handler
