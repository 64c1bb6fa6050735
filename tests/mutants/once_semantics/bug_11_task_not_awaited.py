"""BUG: the wrapper starts an async handler as a task (``asyncio.ensure_future``)
instead of awaiting it, "so the bus is not blocked": the emit returns while the
handler is still running, and the next listener starts before it finished.

Violates rule 9: "Sync and async handlers both work; an async handler is awaited."
(and the bus contract "`await bus.emit(event, *args)` calls the listeners in
priority order, awaiting each").
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_background: set[asyncio.Future[Any]] = set()


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

    fired = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            _background.add(task)
            task.add_done_callback(_background.discard)

    bus.on(event, wrapper, priority=priority)
    return handler
