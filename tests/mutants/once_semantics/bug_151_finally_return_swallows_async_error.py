"""Bug: the helper that awaits the handler's result returns from its ``finally`` block, and a ``return`` in ``finally`` discards the exception in flight, so an async handler's error never reaches the bus.

Breaks: "**A handler that raises** counts as fired (it never runs again), and its exception reaches the bus (do not catch it, do not wrap it in another): the bus goes on with the other listeners and returns that very exception in the emit's result" ... an ``async def`` handler that raises ``ValueError`` under ``once``: ``await bus.emit("e", 1)`` returns ``result.errors == ()`` (a sync handler's error still gets through).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _settle(value: Any) -> Any:
    """Await ``value`` once if it is awaitable; always hand back what we ended up with."""
    outcome = value
    try:
        if inspect.isawaitable(value):
            outcome = await value
    finally:
        return outcome


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def use(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return use

    pending = [True]

    async def listener(*args: Any, **kwargs: Any) -> Any:
        if not pending:
            return None
        pending.clear()
        bus.off(event, listener)
        return await _settle(handler(*args, **kwargs))

    functools.update_wrapper(listener, handler)
    bus.on(event, listener, priority=priority)
    return handler
