"""
CORRECT (alternative design): the once-listener is an instance of a small class with an
`async def __call__` (the bus sees it as async) and `__slots__`, so its state (`_fired`) is a
slot no handler attribute can replace (nothing is copied from the handler but `__wrapped__`,
which is how `bus.off(event, handler)` finds it). `__call__` takes `*args, **kwargs` only
(self is taken from args), sets the flag and removes itself before calling the handler, and
awaits what it returns once if `inspect.isawaitable`. The decorator form is a
functools.partial of `once`, so each use registers anew. Priority goes to bus.on unchanged.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    __slots__ = ("__wrapped__", "_bus", "_event", "_fired")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self._fired = False
        self.__wrapped__ = handler

    async def __call__(*args: Any, **kwargs: Any) -> None:
        self, *rest = args
        if self._fired:
            return
        self._fired = True
        self._bus.off(self._event, self)
        outcome = self.__wrapped__(*rest, **kwargs)
        if inspect.isawaitable(outcome):
            await outcome

    def __repr__(self) -> str:
        return f"<once {self._event!r} {self.__wrapped__!r}>"


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
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
