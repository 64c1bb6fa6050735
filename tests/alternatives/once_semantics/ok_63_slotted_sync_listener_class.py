"""Exercise 2: once_semantics. Build ``once`` on top of an EventBus's ``on`` and ``off``.

Design: a small listener class, ``_OneShot``, registered with ``bus.on``.

* It is a *sync* callable: it returns whatever the handler returned, and the bus
  awaits that itself when it is awaitable (exactly once), as it does for any
  listener. Sync handlers therefore run eagerly, as with a plain ``bus.on``.
* Its state lives in ``__slots__`` (data descriptors), so the handler's own
  attributes, which ``functools.update_wrapper`` copies into the instance
  ``__dict__``, can never shadow it. ``__wrapped__`` is what lets
  ``bus.off(event, handler)`` find it.
* ``__call__`` takes ``self`` positionally only, so an emit keyword named
  ``self`` (or anything else) reaches the handler untouched.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OneShot:
    """A listener that passes the first call on to the handler and ignores the rest."""

    __slots__ = ("__dict__", "_bus", "_event", "_fired", "_handler")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self._handler = handler
        self._fired = False
        functools.update_wrapper(self, handler)  # __wrapped__, __name__, the handler's attrs

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if self._fired:
            # still in the snapshot of an emit that started before we fired
            return None
        self._fired = True
        self._bus.off(self._event, self)  # ourselves only: a plain bus.on(handler) stays
        # Not awaited here: the bus awaits an awaitable return value once, and a
        # handler's exception propagates to the bus untouched.
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
        # `bus.on` with no handler registers nothing but checks the event name and
        # the priority, raising what it raises: the decorator form refuses up front.
        bus.on(event, priority=priority)
        return functools.partial(once, bus, event, priority=priority)
    bus.on(event, _OneShot(bus, event, handler), priority=priority)
    return handler
