"""Bug: when the handler returns an async generator (an ``async def`` with ``yield``), the wrapper runs it to the end with ``async for`` instead of treating it as a value.

Breaks: "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited ... Anything else, a plain generator too, is a value, not awaited." ... with `async def audit(user): seen.append(user); yield user` given by `once(bus, "login", audit)`, `await bus.emit("login", "ann")` must only create the (unawaitable) async generator, leaving `seen == []`; here its body runs and `seen == ["ann"]` (and an exception in its body lands in `result.errors`).
"""

from __future__ import annotations

import functools
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _settle(result: Any) -> None:
    """Finish whatever asynchronous work the handler handed back."""
    if inspect.isasyncgen(result):  # an `async def` that yields: run it through
        async for _ in result:
            pass
    elif inspect.isawaitable(result):
        await result


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

    calls = itertools.count()  # the first call gets 0: that one fires

    @functools.wraps(handler)
    async def listener(*args: Any, **kwargs: Any) -> None:
        if next(calls):
            return
        bus.off(event, listener)
        await _settle(handler(*args, **kwargs))

    bus.on(event, listener, priority=priority)
    return handler
