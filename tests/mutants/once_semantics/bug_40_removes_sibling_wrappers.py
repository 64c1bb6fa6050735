"""Bug: when it fires, the wrapper takes off every once-wrapper of the same handler it finds in bus.listeners(event), not only itself, so a once of that handler given by a listener during the same emit is removed before it ever runs.

Breaks rule 13: "`once(bus, event, handler)` called by a listener (or by the handler itself) while an emit of `event` runs counts from the next emit, like any `bus.on` then (snapshot)."
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_MARK = "_is_once_wrapper"


def _take_off(bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
    for listener in bus.listeners(event):
        if getattr(listener, _MARK, False) and getattr(listener, "__wrapped__", None) is handler:
            bus.off(event, listener)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return lambda fn: once(bus, event, fn, priority=priority)

    status = {"fired": False}

    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if status["fired"]:
            return
        status["fired"] = True
        _take_off(bus, event, handler)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    functools.update_wrapper(wrapper, handler)
    setattr(wrapper, _MARK, True)
    bus.on(event, wrapper, priority=priority)
    return handler
