"""Normalises the priority with int() before handing it to bus.on, so a level name such as the string high (which bus.on accepts) raises instead of being passed on.

Breaks: "A priority is anything `bus.on` takes: an `EventPriority` member or a plain `int` (`10` runs before `HIGHEST`); pass it on unchanged."
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _make_wrapper(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    state = {"fired": False}

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if state["fired"]:
            return
        state["fired"] = True
        bus.off(event, wrapper)
        outcome = handler(*args, **kwargs)
        if inspect.isawaitable(outcome):
            await outcome

    return wrapper


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    level = int(priority)  # EventPriority is an IntEnum; ints pass through
    if handler is None:
        return functools.partial(once, bus, event, priority=level)
    bus.on(event, _make_wrapper(bus, event, handler), priority=level)
    return handler
