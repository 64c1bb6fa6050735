"""Exercise 2: once_semantics. The wrapper keeps awaiting while the result is awaitable, so a Task the handler returns is waited for too.

BUG (planted): "It is awaited once: what that gives back is a value, even when it is
awaitable too." The wrapper loops `while inspect.isawaitable(result): result = await
result`: an async handler that starts a background job and returns its Task makes the
emit wait for that whole job (and a handler returning a coroutine-returning coroutine
runs both).
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
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # checks the name and the priority, registers nothing

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register
    if not callable(handler):
        raise TypeError(f"a handler must be callable, not {handler!r}")

    fired = False

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        while inspect.isawaitable(result):  # an awaitable may give back another one
            result = await result
        return result

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]  # bus.off(event, handler) finds it
    bus.on(event, wrapper, priority=priority)
    return handler
