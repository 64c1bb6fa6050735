"""Bug: the wrapper marks itself fired first but takes itself off the bus only after the handler has returned (in `finally`), so while the handler runs its wrapper is still on the bus.

Breaks: "Nothing left behind: after it fired, the bus holds no listener of yours for `event` (`len(bus.listeners(event))` is back where it was)." ... an async handler given with `once(bus, "e", h)` that awaits something: while it waits (or from inside `h`), `len(bus.listeners("e"))` is still 1, and a re-entrant `await bus.emit("e")` from `h` still counts the wrapper as a listener that ran (`result.ran == 1`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register

    state = {"fired": False}

    async def listener(*args: Any, **kwargs: Any) -> None:
        if state["fired"]:
            return
        state["fired"] = True
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        finally:
            bus.off(event, listener)  # it ran: now it can go

    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, listener, priority=priority)
    return handler
