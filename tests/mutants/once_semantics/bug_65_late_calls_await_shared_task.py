"""Bug: the first call runs the handler as a task and later calls of the same wrapper (re-entrant or concurrent emits) await that task too, so its exception is reported again in emits where the handler did not run.

Breaks: "A handler that raises counts as fired (it never runs again), and its exception reaches the bus ...: the bus goes on with the other listeners and returns that very exception in the emit's result, as for any listener".
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _as_coroutine(result: Any) -> Any:
    if inspect.isawaitable(result):
        return await result
    return result


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

    done: list[asyncio.Future[Any]] = []

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if done:
            # already fired: share the outcome of the one real call
            return await asyncio.shield(done[0])
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        done.append(future)
        bus.off(event, wrapper)
        try:
            value = await _as_coroutine(handler(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
            raise
        future.set_result(value)
        return value

    bus.on(event, wrapper, priority=priority)
    return handler
