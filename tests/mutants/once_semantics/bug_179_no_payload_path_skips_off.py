"""Bug: the wrapper has a separate branch for an emit without arguments (``emit("e")`` calls ``handler()``), and that branch only sets the fired flag: it never takes the listener off the bus.

Breaks: "**Nothing left behind**: after it fired, the bus holds no listener of yours for `event` (`len(bus.listeners(event))` is back where it was)." ... `once(bus, "e", h)` then `await bus.emit("e")`: `h()` runs once, but `len(bus.listeners("e"))` stays at 1 after the emit (and the spent wrapper keeps being called on every later emit); with `emit("e", 1)` it is back to 0.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _wait_for(awaitable: Any) -> Any:
    return await awaitable


def _outcome(result: Any) -> Any:
    """What the bus gets back: a coroutine to await when the handler's result is awaitable."""
    return _wait_for(result) if inspect.isawaitable(result) else None


def _make_listener(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    state = {"fired": False}

    def listener(*args: Any, **kwargs: Any) -> Any:
        if state["fired"]:
            return None
        if not args and not kwargs:
            # emit("e"): nothing to pass on, just call it
            state["fired"] = True
            return _outcome(handler())
        state["fired"] = True
        bus.off(event, listener)
        return _outcome(handler(*args, **kwargs))

    functools.update_wrapper(listener, handler)
    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    return listener


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # refuses what bus.on refuses, registers nothing
        return functools.partial(_registered, bus, event, priority)
    return _registered(bus, event, priority, handler)


def _registered(bus: EventBus, event: str, priority: Any, handler: Callable[..., Any]) -> Any:
    bus.on(event, _make_listener(bus, event, handler), priority=priority)
    return handler
