"""Style: each registration is an instance of a small class whose call method is async, with self positional-only.

Why it is correct: every once call makes a new instance (so the same handler given twice makes two
registrations, on whichever bus it was given), with a wrapped attribute pointing at the handler set
before bus.on, so bus.off(event, handler) finds it. The call method takes self positional-only and
then any positional and keyword arguments, so even a keyword named self reaches the handler. It
checks and sets its own flag and takes itself off the bus before calling the handler, awaits what
the handler returns once if it is awaitable, and lets any exception go to the bus unchanged.
Priority goes to bus.on unchanged in every form, and once returns the handler itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class OnceListener:
    """A listener that calls ``handler`` the first time it is called, and never again."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self._handler = handler
        self._spent = False
        self.__wrapped__ = handler
        for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
            try:
                setattr(self, attr, getattr(handler, attr))
            except AttributeError:
                pass

    async def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if self._spent:
            return None
        self._spent = True
        self._bus.off(self._event, self)
        result = self._handler(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    bus.on(event, OnceListener(bus, event, handler), priority=priority)
    return handler
