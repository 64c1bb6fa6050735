"""Exercise 2: once_semantics.

A small class per registration: ``_OnceListener`` keeps the bus, the event,
the handler (as ``__wrapped__``, which is how ``bus.off(event, handler)`` finds
it) and a ``_pending`` flag in ``__slots__``, so no attribute of the handler can
reach its state. ``__call__(self, *args, **kwargs)`` claims the flag, removes
exactly this listener with ``bus.off(event, self)`` and returns the handler's
result for the bus to await when it is awaitable. The decorator form is a
``functools.partial`` of ``once`` itself, after a throwaway ``bus.on(event,
priority=...)`` without a handler has checked the event and the priority.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    """One registration of ``once``: fires its handler on the first call only."""

    __slots__ = ("__wrapped__", "_bus", "_event", "_pending")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self.__wrapped__ = handler
        self._pending = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self._pending:
            return None  # already fired: a snapshot taken before it left the bus
        self._pending = False
        self._bus.off(self._event, self)
        return self.__wrapped__(*args, **kwargs)

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
        bus.on(event, None, priority=priority)  # raises what bus.on raises; adds nothing
        return functools.partial(once, bus, event, priority=priority)
    if not callable(handler):
        raise TypeError(f"once() needs a callable handler, not {handler!r}")
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
