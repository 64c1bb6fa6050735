"""Bug: ``once`` checks ``priority`` against the four kinds the text lists (an ``EventPriority``, an ``int``, a level name, a Nexios ``EventPriority``) and refuses anything else with ``TypeError``, so another enum's member named after a level, which ``bus.on`` takes by its name, is refused.

Breaks: "A priority is anything `bus.on` takes: an `EventPriority` member, a plain `int` (`10` runs before `HIGHEST`), a level name such as `"high"`, or a member of Nexios' own `nexios.events.EventPriority` ...; pass it on unchanged." ... with `class Level(enum.Enum): HIGH = "h"`, `once(bus, "e", h, priority=Level.HIGH)` raises TypeError, where `bus.on("e", h, priority=Level.HIGH)` registers h at HIGH.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

try:
    from nexios.events import EventPriority as _NexiosPriority
except ImportError:  # pragma: no cover
    _NexiosPriority = EventPriority

_KINDS = (EventPriority, int, str, _NexiosPriority)


def _checked(priority: Any) -> Any:
    """Refuse, before anything is registered, what is no priority (a bool is no level)."""
    if isinstance(priority, bool) or not isinstance(priority, _KINDS):
        raise TypeError(
            f"priority must be an EventPriority, a level name or an int, not {priority!r}"
        )
    return priority


class _Once:
    """One registration: off the bus and disarmed before the handler is called."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        functools.update_wrapper(self, handler)  # first: it copies the handler's __dict__
        self.bus = bus
        self.event = event
        self.armed = True

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if not self.armed:
            return
        self.armed = False
        self.bus.off(self.event, self)
        result = self.__wrapped__(*args, **kwargs)
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
    priority = _checked(priority)
    if handler is None:
        bus.on(event, priority=priority)

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register
    bus.on(event, _Once(bus, event, handler), priority=priority)
    return handler
