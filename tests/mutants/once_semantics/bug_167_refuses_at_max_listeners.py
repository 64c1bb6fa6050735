"""Bug: to guard against leaks it refuses (RuntimeError) to add its wrapper once the event already has ``bus.max_listeners`` listeners, instead of letting the bus only warn.

Breaks: "`EventBus(max_listeners=50)` (the default) only warns when an event has more listeners than that: every one of them stays on the bus and runs." ... with 50 `bus.on("e", ...)` listeners, `once(bus, "e", h)` raises RuntimeError and `h` never runs on the next emit (with 49 it works).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _awaited(result: Any) -> None:
    await result


def _make_listener(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    fired = [False]

    def listener(*args: Any, **kwargs: Any) -> Any:
        if fired[0]:
            return None
        fired[0] = True
        bus.off(event, listener)
        result = handler(*args, **kwargs)
        return _awaited(result) if inspect.isawaitable(result) else None

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
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)
        return register
    limit = bus.max_listeners
    if limit and len(bus.listeners(event)) >= limit:
        raise RuntimeError(f"{event!r} already has {limit} listeners (max_listeners): a leak?")
    bus.on(event, _make_listener(bus, event, handler), priority=priority)
    return handler
