"""An object of a class with __await__ returned by the handler is never awaited (only
coroutines and Futures are): "whatever the handler returns that is awaitable is awaited".

Written for the first blind batch as a correct solution (ok_04_state_dict_partial) in
this style: an async wrapper using a mutable dict as its state, the off inside the
guard before the call, and the decorator built with functools.partial over keyword
arguments so priority is kept. It asks asyncio.iscoroutine or asyncio.isfuture instead
of inspect.isawaitable, which the fourth batch's probe (an awaitable object) showed;
kept as a bug of that rule.
"""

from __future__ import annotations

import asyncio
import functools
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

    state = {"armed": True}

    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if not state["armed"]:
            return
        state["armed"] = False
        bus.off(event, wrapper)
        if asyncio.iscoroutinefunction(handler):
            await handler(*args, **kwargs)
        else:
            result = handler(*args, **kwargs)
            if asyncio.iscoroutine(result) or asyncio.isfuture(result):
                await result

    functools.update_wrapper(wrapper, handler)
    bus.on(event, wrapper, priority=priority)
    return handler
