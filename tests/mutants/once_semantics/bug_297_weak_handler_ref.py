"""Exercise 2: once_semantics. A wrapper that holds the handler weakly, so a pending once-listener keeps nothing alive.

BUG (planted): "A handler is any callable, ... one that cannot be weakly referenced
(`__slots__`)". The wrapper keeps a ``weakref.ref`` (``WeakMethod`` for bound methods) to
the handler so an unfired once-listener does not keep it alive; for a callable object of a
``__slots__`` class the caller of ``once`` gets ``TypeError: cannot create weak reference
to '...' object``, nothing is registered, and the handler never hears the event.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _weak(handler: Callable[..., Any]) -> Callable[[], Any]:
    if hasattr(handler, "__func__") and hasattr(handler, "__self__"):
        return weakref.WeakMethod(handler)  # type: ignore[arg-type]
    return weakref.ref(handler)


class _OnceListener:
    __slots__ = ("__wrapped__", "_bus", "_event", "_fired", "_ref")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._ref = _weak(handler)
        self._bus = bus
        self._event = event
        self._fired = False
        self.__wrapped__ = handler  # bus.off(event, handler) finds us through it

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._fired:
            return None
        self._fired = True
        self._bus.off(self._event, self)
        handler = self._ref()
        if handler is None:
            return None
        return handler(*args, **kwargs)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            bus.on(event, _OnceListener(bus, event, fn), priority=priority)
            return fn

        return decorator
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
