"""Bug: an exception raised while awaiting an async handler is handed to an ``"error"`` event on the bus (Node's captureRejections / pyee's AsyncIOEventEmitter) instead of being re-raised, so the emit's result never holds it.

Breaks: "A handler that raises counts as fired (it never runs again), and its exception reaches the bus (do not catch it, do not wrap it in another): the bus goes on with the other listeners and returns that very exception in the emit's result, as for any listener (a handler's `ValueError` is a `ValueError` in `result.errors`)." ... `once(bus, "e", boom)` with `async def boom(x): raise ValueError` then `await bus.emit("e", 1)` returns a result whose `errors` is empty (the ValueError went to `bus.emit("error", exc)`); a sync handler's error still reaches the bus.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    """One registration: takes itself off the bus, then calls the handler."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.handler = handler
        self.__wrapped__ = handler  # so that bus.off(event, handler) finds us
        self.fired = False

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fired:
            return None
        self.fired = True
        self.bus.off(self.event, self)
        result = self.handler(*args, **kwargs)
        if not inspect.isawaitable(result):
            return result
        try:
            return await result
        except Exception as exc:
            # A rejected async listener goes to the "error" event, the way
            # EventEmitter's captureRejections (and pyee) report it.
            await self.bus.emit("error", exc)
            return None


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
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
