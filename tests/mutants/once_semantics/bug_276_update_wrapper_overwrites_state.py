"""Exercise 2: once_semantics. A ``_Once`` class made to look like the handler with ``functools.update_wrapper``.

BUG (planted): the page says a handler may be "one with attributes of its own,
whatever their names (`functools.wraps` copies them onto a wrapper: keep your
wrapper's own state where they cannot replace it)". This version keeps its state
in instance attributes (``self.bus``, ``self.event``, ``self.fired``) and calls
``functools.update_wrapper(self, handler)`` last, to get ``__wrapped__`` and a
readable name, so a handler tagged with an attribute of the same name (say
``handler.event = "user.login"``, as a routing decorator does) replaces the
wrapper's own: it then takes itself off the wrong event and stays on the bus
after it fired (``len(bus.listeners(event))`` is not back where it was).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Once:
    """A listener that calls ``handler`` on its first call and removes itself."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.fired = False
        functools.update_wrapper(self, handler)  # __wrapped__, __name__, __doc__, ...

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fired:
            return None
        self.fired = True
        self.bus.off(self.event, self)
        return self.__wrapped__(*args, **kwargs)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # raises now if the bus refuses the priority

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorate
    if not callable(handler):
        raise TypeError(f"once() handler must be callable, not {type(handler).__name__}")
    bus.on(event, _Once(bus, event, handler), priority=priority)
    return handler
