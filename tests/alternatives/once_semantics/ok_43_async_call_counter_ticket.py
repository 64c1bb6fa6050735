"""Style: each registration is an object with an ``async def __call__`` (positional-only ``self``) whose first call draws ticket 0 from an ``itertools.count``; any later call draws a bigger number and does nothing.

Follows: "runs on the next emit of `event`, and never again" (only ticket 0 runs the handler, drawn before anything is awaited, so re-entrant and concurrent emits draw 1, 2, ...); "Once called it has run, even if the emit is cancelled while it runs" (the ticket is never given back); "its listener is off the bus from then on, while the handler still runs" (``bus.off(event, self)`` right after drawing ticket 0, on the key it was registered under, a pattern too); "`bus.off(event, handler)` ... before the event is emitted means it never runs" (``__wrapped__`` is the handler; equal bound methods are found by the bus); "each use is a registration of its own" / "The same handler given twice makes two registrations" (a new object per registration); "your `once` removes only its own wrapper"; "the decorator form is the one without a handler (`handler is None`)"; "What `bus.on` refuses, `once` refuses too ... the decorator too" (``bus.on(event, priority=priority)`` is asked first, which registers nothing); "pass it on unchanged" (priority goes to ``bus.on`` as given); "a wrapper of yours takes `*args, **kwargs` only" (``self`` is positional-only, so ``emit("e", self=1)`` reaches the handler); "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited ... once"; "do not catch it, do not wrap it in another".
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Registration:
    __slots__ = ("__wrapped__", "_bus", "_event", "_tickets")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self._tickets = itertools.count()
        self.__wrapped__ = handler

    async def __call__(self, /, *args: Any, **kwargs: Any) -> None:
        if next(self._tickets):
            return
        self._bus.off(self._event, self)
        result = self.__wrapped__(*args, **kwargs)
        if inspect.isawaitable(result):
            await result


def _register(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> Any:
    bus.on(event, _Registration(bus, event, handler), priority=priority)
    return handler


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is not None:
        return _register(bus, event, handler, priority)
    bus.on(event, priority=priority)  # refuses a bool / unknown name now; registers nothing
    return lambda fn: _register(bus, event, fn, priority)
