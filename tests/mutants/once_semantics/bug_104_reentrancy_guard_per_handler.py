"""Bug: besides its own fired flag, each wrapper skips (and uses up) its call while the same handler is already running on that bus, a "no recursion" guard that also swallows a second, separate registration of that handler.

Breaks: "**The same handler given twice** makes two registrations: each fires once, so the handler runs twice on the next emit and never after" ... "So a handler that gives itself again fires once per emit." ... With `once(bus, "e", h)` twice and an async `h(x)` that awaits `bus.emit("e", 2)` when `x == 1`, the second registration is called (in the nested emit) while `h(1)` is still running, so it is used up without running: `h` runs once (`[1]`) instead of twice (`[1, 2]`); likewise a handler that gives itself again and then emits never runs for that emit.
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# per bus: the handlers of once-wrappers that are running right now (kept by identity,
# so unhashable handlers work too); gone with the bus
_running: weakref.WeakKeyDictionary[Any, list[Any]] = weakref.WeakKeyDictionary()


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

    state = {"fired": False}

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if state["fired"]:
            return
        state["fired"] = True
        bus.off(event, wrapper)
        running = _running.setdefault(bus, [])
        if any(h is handler for h in running):
            return  # already running: a re-entrant emit must not recurse into it
        running.append(handler)
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        finally:
            del running[next(i for i, h in enumerate(running) if h is handler)]

    bus.on(event, wrapper, priority=priority)
    return handler
