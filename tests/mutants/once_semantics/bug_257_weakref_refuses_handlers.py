"""Bug: so that a registration waiting for its event does not keep the handler alive, the wrapper holds it through a weak reference (`weakref.WeakMethod` for a bound method, else `weakref.ref`); but not every callable can be weakly referenced: a callable object of a class with `__slots__` (or a bound method of one) makes it raise `TypeError`, so `once` refuses a valid handler.

Breaks: "A handler is any callable, ... one that cannot be weakly referenced (`__slots__`)" ... `class Counter: __slots__ = ("n",); def __call__(self, *a): self.n += 1`; `once(bus, "e", Counter())` raises `TypeError: cannot create weak reference to 'Counter' object` and registers nothing, where `await bus.emit("e")` should call it once.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # validates event and priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    if not callable(handler):
        raise TypeError(f"a handler must be callable, not {handler!r}")
    # Do not keep the handler (or a bound method's object) alive just because it
    # waits for an event: hold it weakly. A bound method is a new object at each
    # access, so it needs WeakMethod (a plain ref to it would die at once).
    ref: Callable[[], Any]
    if inspect.ismethod(handler):
        ref = weakref.WeakMethod(handler)
    else:
        ref = weakref.ref(handler)

    fired = False

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:  # a re-entrant or concurrent emit still holding us in its snapshot
            return None
        fired = True
        bus.off(event, wrapper)
        fn = ref()
        if fn is None:  # the handler's object is gone: nobody is left to call
            return None
        return fn(*args, **kwargs)

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]  # bus.off(event, handler)
    bus.on(event, wrapper, priority=priority)
    return handler
