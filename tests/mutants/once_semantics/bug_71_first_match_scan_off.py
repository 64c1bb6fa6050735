"""The wrapper is a functools.partial of a module-level helper that cannot name itself, so it removes the first listener on the bus that wraps the same handler, which can be another pending once-registration instead of itself.

Breaks: "`once(bus, event, handler)` called by a listener (or by the handler itself) while an emit of `event` runs counts from the next emit, like any `bus.on` then (snapshot)." (and rule 5, nothing left behind)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _State:
    __slots__ = ("bus", "event", "fired", "handler")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.handler = handler
        self.fired = False


async def _fire(__state: _State, /, *args: Any, **kwargs: Any) -> None:
    state = __state
    if state.fired:
        return
    state.fired = True
    # take our registration off the bus: it is the listener that wraps our handler
    for listener in state.bus.listeners(state.event):
        if getattr(listener, "__wrapped__", None) is state.handler:
            state.bus.off(state.event, listener)
            break
    result = state.handler(*args, **kwargs)
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
    listener = functools.partial(_fire, _State(bus, event, handler))
    functools.update_wrapper(listener, handler)  # sets __wrapped__ for bus.off(event, handler)
    bus.on(event, listener, priority=priority)
    return handler
