"""Bug: level names are looked up in a table built by iterating ``EventPriority``, and iterating an enum skips its aliases, so ``NORMAL`` (an alias of ``MEDIUM``) is missing.

Breaks: "A priority is anything `bus.on` takes: an `EventPriority` member, a plain `int` (`10` runs before `HIGHEST`), a level name such as `"high"`, or a member of Nexios' own `nexios.events.EventPriority` (whose values run the other way: `HIGHEST` is 1; the bus goes by its name); pass it on unchanged." ... ``once(bus, "e", h, priority=nexios.events.EventPriority.NORMAL)`` (Nexios' default level) or ``priority="normal"`` raises ``KeyError`` instead of registering ``h`` at the middle level.
"""

from __future__ import annotations

import enum
import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# every level by name, for the two spellings that are not ints: strings and Nexios members
_LEVELS: dict[str, EventPriority] = {level.name: level for level in EventPriority}


def _level(priority: Any) -> Any:
    """The bus's own level for ``priority`` (Nexios' values run the other way: go by name)."""
    if isinstance(priority, int):  # EventPriority members and plain ints, as they are
        return priority
    name = priority.name if isinstance(priority, enum.Enum) else str(priority)
    return _LEVELS[name.upper()]


class _OnceListener:
    """One registration: fires its handler on the first call only."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.handler = handler
        self.fired = False
        functools.update_wrapper(self, handler)

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fired:
            return None
        self.fired = True
        self.bus.off(self.event, self)
        result = self.handler(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    level = _level(priority)
    if handler is None:
        return lambda fn: once(bus, event, fn, priority=level)
    bus.on(event, _OnceListener(bus, event, handler), priority=level)
    return handler
