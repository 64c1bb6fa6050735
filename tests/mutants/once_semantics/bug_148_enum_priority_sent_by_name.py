"""Bug: every enum priority is handed to ``bus.on`` by its ``.name`` (to be safe with Nexios' reversed values), which turns an ``IntEnum`` level the bus takes as an int into a name it does not know.

Breaks: "A priority is anything `bus.on` takes: an `EventPriority` member, a plain `int` (`10` runs before `HIGHEST`), a level name such as `"high"`, or a member of Nexios' own `nexios.events.EventPriority` ...; pass it on unchanged." ... with ``class Level(IntEnum): URGENT = 10``, ``bus.on("e", f, priority=Level.URGENT)`` works (it runs before ``HIGHEST``), but ``once(bus, "e", h, priority=Level.URGENT)`` raises ``ValueError: unknown priority 'URGENT'``.
"""

from __future__ import annotations

import enum
import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _for_bus(priority: Any) -> Any:
    """The bus goes by a member's name (Nexios' values run the other way), so send names."""
    return priority.name if isinstance(priority, enum.Enum) else priority


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

    state = {"armed": True}

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not state["armed"]:
            return None
        state["armed"] = False
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    functools.update_wrapper(wrapper, handler)
    bus.on(event, wrapper, priority=_for_bus(priority))
    return handler
