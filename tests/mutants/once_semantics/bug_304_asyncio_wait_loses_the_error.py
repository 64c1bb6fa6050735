"""Exercise 2: once_semantics. The handler's awaitable is run as a task and awaited with asyncio.wait, which never raises its exception.

BUG (planted): "its exception reaches the bus (do not catch it, do not wrap it in
another): the bus ... returns that very exception in the emit's result". So that the
handler finishes even if the emit is cancelled, the wrapper awaits asyncio.wait({task})
instead of the task: asyncio.wait returns when the task is done but never raises what it
raised, so an async handler's error is lost (result.errors is empty); a sync handler's
error still shows.
"""

from __future__ import annotations

import asyncio
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
        if inspect.isawaitable(result):
            # once called it has run: let it finish even if the emit is cancelled
            task = asyncio.ensure_future(result)
            await asyncio.wait({task})
            return None
        return result

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]  # bus.off(event, handler) finds it
    bus.on(event, wrapper, priority=priority)
    return handler
