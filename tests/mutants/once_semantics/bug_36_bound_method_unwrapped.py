"""Bug: to avoid keeping objects alive, a bound-method handler is split into a weak reference to its object and its plain function, and the wrapper is wrapped around that function, so bus.off(event, obj.handle) no longer finds the wrapper.

Breaks rule 4: "`bus.off(event, handler)` (with the handler you were given, or an equal one such as a new `obj.handle` of the same object; not any wrapper of yours) before the event is emitted means it never runs."
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _resolver(handler: Callable[..., Any]) -> tuple[Callable[..., Any], Callable[[], Any]]:
    """Return (the function to wrap, a zero-argument function giving the callable to run)."""
    if inspect.ismethod(handler):
        owner = weakref.ref(handler.__self__)
        func = handler.__func__

        def current() -> Any:
            obj = owner()
            return None if obj is None else func.__get__(obj)

        return func, current
    return handler, lambda: handler


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return lambda fn: once(bus, event, fn, priority=priority)

    target, current = _resolver(handler)
    fired = False

    @functools.wraps(target)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        fn = current()
        if fn is None:  # the object is gone
            return
        result = fn(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
