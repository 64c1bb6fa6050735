"""Bug: the listener keeps only a weak reference to the handler (so a forgotten ``once`` keeps nothing alive), and many callables cannot be weakly referenced.

Breaks: "A handler is any callable, a falsy one too (an empty collection with a `__call__`), one without a hash (a `@dataclass` with a `__call__`), and a C callable whose signature `inspect` cannot read" ... `once(bus, "e", str.upper)`, `once(bus, "e", operator.itemgetter(0))` or `once(bus, "e", obj)` where `obj` is a callable object of a class with `__slots__` (a `@dataclass(slots=True)` with a `__call__`) raises `TypeError: cannot create weak reference to ...` instead of registering the handler.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _WeakOnce:
    """A one-shot listener that does not keep its handler (or the handler's object) alive."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.fired = False
        # a bound method is a new object each time: WeakMethod follows its object
        self._ref = weakref.WeakMethod(handler) if inspect.ismethod(handler) else weakref.ref(handler)

    @property
    def __wrapped__(self) -> Callable[..., Any] | None:  # what bus.off(event, handler) looks for
        return self._ref()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fired:
            return None
        self.fired = True
        self.bus.off(self.event, self)
        handler = self._ref()
        if handler is None:  # its object is gone: nothing to call
            return None
        return handler(*args, **kwargs)  # the bus awaits what is awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            once(bus, event, fn, priority=priority)
            return fn

        return decorator
    bus.on(event, _WeakOnce(bus, event, handler), priority=priority)
    return handler
