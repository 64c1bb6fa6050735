"""Bug: an awaitable result is awaited with asyncio.wait on a task, which never re-raises, so an async handler's exception never reaches the bus.

Breaks: "A handler that raises counts as fired (it never runs again), and its
exception reaches the bus (do not catch it, do not wrap it in another): the bus
goes on with the other listeners and returns that very exception in the emit's
result".
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return functools.partial(once, bus, event, priority=priority)

    done = [False]

    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if done[0]:
            return
        done[0] = True
        bus.off(event, wrapper)
        outcome = handler(*args, **kwargs)
        if inspect.isawaitable(outcome):
            task = asyncio.ensure_future(outcome)
            await asyncio.wait([task])  # wait until the handler has finished

    functools.update_wrapper(wrapper, handler)
    bus.on(event, wrapper, priority=priority)
    return handler
