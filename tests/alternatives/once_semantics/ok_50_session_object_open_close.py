"""Style: modelled on lesson 02's ``ChatSession`` (open/close): each registration is a callable session object with ``__slots__`` for its own state, which opens itself on the bus and closes itself before it hands the call over.

Follows: "`handler` runs on the next emit of `event`, and never again" (``__call__`` checks and clears the ``_open`` slot before anything else, then ``close()`` takes the object off with ``bus.off(event, self)``, so re-entrant emits, sync ones too, and concurrent emits that still hold it skip it); "after it fired, the bus holds no listener of yours", also under a pattern (it closes under the very key it opened on); "your once removes only its own wrapper (`bus.off(event, wrapper)`, never `bus.off(event, handler)`)"; "`bus.off(event, handler)` ... cancels" (``functools.update_wrapper`` puts ``__wrapped__`` in the instance's ``__dict__``; the slots keep the object's own state out of the handler's copied attributes); "the same handler given twice makes two registrations" (one object each); "returns `handler` itself" in every form, and "each use is a registration of its own" (the decorator opens a new session per use); "What `bus.on` refuses, `once` refuses too ... the decorator too" (``bus.on(event, priority=...)`` without a handler checks and registers nothing); "exactly the positional and keyword arguments" (a positional-only ``self`` plus ``*args, **kwargs``, so even a keyword named ``self`` reaches the handler); "whatever the handler returns that is awaitable is awaited" and "its exception reaches the bus" (the result goes back to the bus as it is, nothing is caught).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceSession:
    __slots__ = ("_bus", "_event", "_handler", "_open", "__dict__", "__weakref__")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self._handler = handler
        self._open = False
        functools.update_wrapper(self, handler)  # __wrapped__: bus.off(event, handler) finds us

    def open(self, priority: Any) -> None:
        self._bus.on(self._event, self, priority=priority)
        self._open = True

    def close(self) -> None:
        self._bus.off(self._event, self)

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if not self._open:
            return None
        self._open = False
        _OnceSession.close(self)  # by the class: the handler's copied attributes never shadow it
        return self._handler(*args, **kwargs)


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
            _OnceSession.open(_OnceSession(bus, event, fn), priority)
            return fn

        return decorator
    _OnceSession.open(_OnceSession(bus, event, handler), priority)
    return handler
