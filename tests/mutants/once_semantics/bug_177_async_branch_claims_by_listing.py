"""Bug: for an ``async def`` handler the wrapper decides whether it may still run by looking itself up in ``bus.listeners(event)`` instead of by its own flag, so a cancel made during the emit stops an async handler in that very emit.

Breaks: "Cancelling *during* an emit (a higher-priority listener calls `bus.off(event, handler)`) takes effect from the next emit: the emit under way already holds your listener in its snapshot, so the handler still runs that once, and never after." ... `bus.on("e", canceller, priority=HIGH)` where canceller calls `bus.off("e", h)`, then `once(bus, "e", h)` with an `async def h`: the first emit calls the canceller then the wrapper, which no longer finds itself listed and skips, so `h` never runs (a sync handler in the same program runs, as it should).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _sync_wrapper(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    fired = False

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:  # a re-entrant emit's snapshot still holds us
            return None
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return _await_once(result)
        return None

    return wrapper


def _async_wrapper(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        # still on the bus means nobody has taken this registration yet
        if wrapper not in bus.listeners(event):
            return None
        bus.off(event, wrapper)
        return await handler(*args, **kwargs)

    return wrapper


async def _await_once(awaitable: Any) -> Any:
    return await awaitable


def _is_async(handler: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(handler):
        return True
    call = getattr(type(handler), "__call__", None)
    return not inspect.isroutine(handler) and inspect.iscoroutinefunction(call)


def _register(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> None:
    build = _async_wrapper if _is_async(handler) else _sync_wrapper
    wrapper = build(bus, event, handler)
    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # refuses a bad priority now, registers nothing

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            _register(bus, event, fn, priority)
            return fn

        return register
    _register(bus, event, handler, priority)
    return handler
