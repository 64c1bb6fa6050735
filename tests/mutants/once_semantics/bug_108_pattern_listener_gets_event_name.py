"""Bug: when ``event`` is a wildcard pattern, the wrapper passes the name of the event it heard (``current_event()``) to the handler as an extra first argument.

Breaks: "the handler gets exactly the positional and keyword arguments given to `emit`, however many and whatever their names: `emit("e")` calls `handler()`" and "`event` may be a wildcard pattern (`"ui:*"`, `"*"`): the handler fires on the next event it hears" ... `once(bus, "ui:*", on_first)` then `await bus.emit("ui:click", 1)` calls `on_first("ui:click", 1)` instead of `on_first(1)` (a one-parameter handler raises `TypeError`); exact event names are unaffected.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority, current_event


def _is_pattern(event: str) -> bool:
    return event.endswith("*")


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

    state = {"fired": False}
    pattern = _is_pattern(event)

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if state["fired"]:
            return
        state["fired"] = True
        bus.off(event, wrapper)
        if pattern:
            # a pattern listener hears many events: tell it which one this was
            args = (current_event(), *args)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
