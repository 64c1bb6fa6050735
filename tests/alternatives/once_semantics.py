"""Exercise 2: once_semantics, an alternative correct ``once``: callable classes, not a closure.

Written differently from the reference on purpose (suite validity): the
wrapper is an object with a ``__wrapped__`` attribute set by hand; its "spent"
state is the guard. A sync handler gets a *sync* wrapper, so on a bus whose
listeners are all sync it runs when ``emit`` is called rather than when it is
awaited (the exercise leaves that open: always await ``emit``), and the
wrapper reads ``bus.listeners`` (read-only methods of the bus are allowed).
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

    def take(self) -> bool:
        """True the first time only; takes the listener off the bus if it is still on."""
        if self.spent:
            return False
        self.spent = True
        if self in self.bus.listeners(self.event):
            self.bus.off(self.event, self)
        return True


class _SyncOnce(_OnceListener):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__wrapped__(*args, **kwargs) if self.take() else None


class _AsyncOnce(_OnceListener):
    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.take():
            return None
        outcome = self.__wrapped__(*args, **kwargs)
        return await outcome if inspect.isawaitable(outcome) else outcome


def once(bus: EventBus, event: str, handler: Callable[..., Any] | None = None, *,
         priority: EventPriority = EventPriority.MEDIUM) -> Any:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        kind = _AsyncOnce if inspect.iscoroutinefunction(fn) else _SyncOnce
        bus.on(event, kind(bus, event, fn), priority=priority)
        return fn

    return register if handler is None else register(handler)
