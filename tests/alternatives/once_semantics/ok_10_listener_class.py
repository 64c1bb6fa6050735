"""Correct: a listener CLASS with an async __call__, made to look like the handler with functools.update_wrapper.

Why it is correct: update_wrapper copies the handler's metadata and its __dict__ first and
sets __wrapped__ to the handler last, before the instance is given to bus.on, so
bus.off(event, handler) (or an equal bound method) finds it even when the handler is itself
decorated. The instance is hashed by identity, so bus.off(event, self) removes only this
registration. __call__ checks and sets the per-instance flag and takes itself off the bus
before calling the handler (snapshots of re-entrant or concurrent emits then do nothing),
passes exactly the emit's arguments, awaits anything awaitable the handler returns and lets
its exception through unchanged. Priority is passed on unchanged; every form returns handler.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Once:
    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        functools.update_wrapper(self, handler)
        # set after update_wrapper: these names belong to the listener, not the handler
        self._once_bus = bus
        self._once_event = event
        self._once_handler = handler
        self._once_pending = True

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if not self._once_pending:
            return
        self._once_pending = False
        self._once_bus.off(self._once_event, self)
        result = self._once_handler(*args, **kwargs)
        if inspect.isawaitable(result):
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

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    bus.on(event, _Once(bus, event, handler), priority=priority)
    return handler
