"""Exercise 2: once_semantics. An ``async def`` wrapper that awaits the handler itself and re-arms if interrupted.

BUG (planted): "Once called it has run, even if the emit is cancelled while it runs (a
timeout): it does not get another turn." The async wrapper treats a ``CancelledError``
while it awaits the handler as "the handler never finished" and puts itself back on the
bus before re-raising, so after ``asyncio.wait_for(bus.emit(...), timeout)`` times out, the
next emit runs the handler a second time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_CO_ITERABLE_COROUTINE = 0x100  # @types.coroutine generators


def _awaitable(value: Any) -> bool:
    if hasattr(type(value), "__await__"):
        return True
    code = getattr(value, "gi_code", None)
    return code is not None and bool(code.co_flags & _CO_ITERABLE_COROUTINE)


def _register(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> None:
    fired = False

    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if _awaitable(result):
            try:
                await result
            except asyncio.CancelledError:
                fired = False  # interrupted: give it its turn on the next emit
                bus.on(event, wrapper, priority=priority)
                raise

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
        bus.on(event, priority=priority)

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            _register(bus, event, fn, priority)
            return fn

        return decorator
    _register(bus, event, handler, priority)
    return handler
