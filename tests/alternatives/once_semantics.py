"""Exercise 2, an alternative correct ``once``: a callable class instead of a closure.

Written differently from the reference on purpose (suite validity): the
wrapper is an object with an async ``__call__`` and a ``__wrapped__`` attribute
set by hand; its "spent" state is the guard.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus, self.event, self.__wrapped__ = bus, event, handler
        self.spent = False

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.spent:
            return None
        self.spent = True
        self.bus.off(self.event, self)
        outcome = self.__wrapped__(*args, **kwargs)
        return await outcome if inspect.isawaitable(outcome) else outcome


def once(bus: EventBus, event: str, handler: Callable[..., Any] | None = None, *,
         priority: EventPriority = EventPriority.MEDIUM) -> Any:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        bus.on(event, _OnceListener(bus, event, fn), priority=priority)
        return fn

    return register if handler is None else register(handler)
