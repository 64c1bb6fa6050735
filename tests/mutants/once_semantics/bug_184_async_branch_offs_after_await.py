"""Bug: the ``async def`` branch marks itself fired before awaiting the handler but takes its listener off the bus only after the await has returned normally, so an async handler that raises leaves its spent listener on the bus (the sync branch takes itself off before the call).

Breaks: "**Nothing left behind**: after it fired, the bus holds no listener of yours for `event` (`len(bus.listeners(event))` is back where it was). It fired when it was called: its listener is off the bus from then on, while the handler still runs" ... `once(bus, "e", boom)` with `async def boom(x): raise ValueError`: after `await bus.emit("e", 1)` (whose result holds the `ValueError`) `len(bus.listeners("e"))` is still 1, and while any async handler awaits, its listener is still listed.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _wrap(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    done = False

    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def async_listener(*args: Any, **kwargs: Any) -> Any:
            nonlocal done
            if done:
                return None
            done = True
            result = await handler(*args, **kwargs)
            bus.off(event, async_listener)
            return result

        return async_listener

    @functools.wraps(handler)
    def listener(*args: Any, **kwargs: Any) -> Any:
        nonlocal done
        if done:
            return None
        done = True
        bus.off(event, listener)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return _drain(result)
        return None

    return listener


async def _drain(awaitable: Any) -> Any:
    return await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # refuse what bus.on refuses, register nothing

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            listener = _wrap(bus, event, fn)
            listener.__wrapped__ = fn  # type: ignore[attr-defined]
            bus.on(event, listener, priority=priority)
            return fn

        return register
    listener = _wrap(bus, event, handler)
    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, listener, priority=priority)
    return handler
