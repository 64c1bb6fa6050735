"""Style: each registration is a small object whose ``async def __call__`` uses an ``asyncio.Event`` as its "has fired" mark, and the decorator form is a ``functools.partial`` of ``once`` itself.

Follows: "`handler` runs on the next emit of `event`, and never again" (the mark is set, and the object takes itself off with `bus.off(event, self)`, before the handler is called, so re-entrant and concurrent emits that still hold it in their snapshot return at once); "`bus.off(event, handler)` ... before the event is emitted means it never runs" (the object's `__wrapped__` is the handler); "after it fired, the bus holds no listener of yours" (`bus.off(event, self)` under the same key, pattern or not, and only its own object: "never `bus.off(event, handler)`"); "all return `handler` itself" and "each use is a registration of its own" (the partial makes a new object per call); "the decorator form is the one without a handler (`handler is None`)"; "pass it on unchanged" (priority goes straight to `bus.on`); "exactly the positional and keyword arguments given to `emit`" (`*args, **kwargs` only); "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited ... once"; a raising handler's own exception propagates untouched after the mark was set; state lives on the object only ("keep no state by `id` in the module").
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Registration:
    """One ``once``: listens until it fires, then never again."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self._fired = asyncio.Event()  # needs no running loop to be set or read
        self.__wrapped__ = handler

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._fired.is_set():
            return None  # an emit that took its snapshot before we left
        self._fired.set()
        self._bus.off(self._event, self)
        outcome = self.__wrapped__(*args, **kwargs)
        if inspect.isawaitable(outcome):
            outcome = await outcome
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
        return functools.partial(once, bus, event, priority=priority)
    bus.on(event, _Registration(bus, event, handler), priority=priority)
    return handler
