"""Bug: an awaitable returned by the handler is awaited inside an asyncio.TaskGroup, so an async handler's exception reaches the bus wrapped in an ExceptionGroup.

Breaks: "**A handler that raises** counts as fired (it never runs again), and its exception
reaches the bus (do not catch it, do not wrap it in another) ... (a handler's `ValueError`
is a `ValueError` in `result.errors`)."
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _settle(awaitable: Awaitable[Any]) -> Any:
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

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register

    done = {"fired": False}

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if done["fired"]:
            return
        done["fired"] = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            # structured concurrency: the handler's work finishes before we return
            async with asyncio.TaskGroup() as group:
                group.create_task(_settle(result))

    bus.on(event, wrapper, priority=priority)
    return handler
