"""Exercise 2: once_semantics: ``once`` built on ``bus.on`` and ``bus.off``.

A small class: each registration is one ``_Once`` object whose ``__call__`` is
``async def``. Its state lives in slots of its own (``functools.wraps`` is not used,
so no attribute of the handler is copied onto it); ``__wrapped__`` is the handler,
which is how ``bus.off(event, handler)`` finds it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority, coerce_priority


class _Once:
    """One once-registration of ``handler`` on ``event`` of ``bus``."""

    __slots__ = ("__wrapped__", "_bus", "_event", "_done")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.__wrapped__ = handler
        self._bus = bus
        self._event = event
        self._done = False

    async def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if self._done:
            return None
        self._done = True
        self._bus.off(self._event, self)
        result = self.__wrapped__(*args, **kwargs)
        if inspect.isawaitable(result):
            return await result
        return result

    def __repr__(self) -> str:
        return f"<once {self.__wrapped__!r} on {self._event!r}>"


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is not None:
        bus.on(event, _Once(bus, event, handler), priority=priority)
        return handler

    coerce_priority(priority)  # refuse what bus.on refuses, before anything is decorated

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        bus.on(event, _Once(bus, event, fn), priority=priority)
        return fn

    return decorator
