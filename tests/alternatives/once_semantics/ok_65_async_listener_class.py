"""Exercise 2: once_semantics.

Design: one ``_OnceListener`` object per registration, whose ``async def __call__`` the
bus awaits. The object owns its bus, event and a ``_spent`` flag (in ``__slots__``, so a
handler's attributes can never land on it); ``__wrapped__`` is the handler, for
``bus.off(event, handler)``. On its first call it marks itself spent and takes itself
off the bus, then calls the handler and awaits what it returned if that is awaitable.
``once`` refuses what ``bus.on`` refuses before it builds anything, so the decorator
form refuses a bad priority at once too.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    """A bus listener that forwards its first call to ``handler`` and ignores the rest."""

    __slots__ = ("__wrapped__", "_bus", "_event", "_spent")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.__wrapped__ = handler
        self._bus = bus
        self._event = event
        self._spent = False

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self._spent:  # reached through an older snapshot: it fired already
            return
        self._spent = True
        self._bus.off(self._event, self)  # this registration only, before the handler runs
        result = self.__wrapped__(*args, **kwargs)
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
    bus.on(event, priority=priority)  # raises what bus.on raises; registers nothing

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if not callable(fn):
            raise TypeError(f"once() needs a callable handler, not {fn!r}")
        bus.on(event, _OnceListener(bus, event, fn), priority=priority)
        return fn

    return register if handler is None else register(handler)
