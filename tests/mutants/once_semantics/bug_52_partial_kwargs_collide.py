"""Bug: the listener is a functools.partial that binds bus, event, handler and state as keywords, so an emit keyword with one of those names (for example event=...) overrides them instead of reaching the handler.

Breaks: "**Arguments**: the handler gets exactly the positional and keyword arguments given
to `emit`, however many"
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _fire_once(
    *args: Any, bus: EventBus, event: str, handler: Callable[..., Any],
    state: dict[str, Any], **kwargs: Any,
) -> None:
    if state["fired"]:
        return
    state["fired"] = True
    bus.off(event, state["listener"])
    result = handler(*args, **kwargs)
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
    if handler is None:
        return lambda fn: once(bus, event, fn, priority=priority)

    state: dict[str, Any] = {"fired": False}
    listener = functools.partial(_fire_once, bus=bus, event=event, handler=handler, state=state)
    functools.update_wrapper(listener, handler)  # sets __wrapped__ for bus.off(event, handler)
    state["listener"] = listener
    bus.on(event, listener, priority=priority)
    return handler
