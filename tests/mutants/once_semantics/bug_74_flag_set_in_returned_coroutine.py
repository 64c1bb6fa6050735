"""Bug: a sync wrapper checks the fired flag, but the flag is only set inside the coroutine it hands back to the bus.

Breaks: "Concurrent emits: await asyncio.gather(bus.emit(event, 1), bus.emit(event, 2)) with async
listeners runs the handler once in total." When the emits call the wrapper before either coroutine
has started (eager emits, or listeners of one level called before any is awaited), both pass the
check and the handler runs twice.
"""

from __future__ import annotations

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
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorate

    state = {"fired": False}

    async def fire(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        # the real work: mark, leave the bus, call and await the handler
        state["fired"] = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # a sync listener: the bus awaits the coroutine we return
        if state["fired"]:
            return None
        return fire(args, kwargs)

    bus.on(event, wrapper, priority=priority)
    return handler
