"""Style: each registration is an instance of a ``functools.partial`` subclass over a module-level trampoline, armed by an entry in its instance dict that the first call pops.

Follows: "runs on the next emit of `event`, and never again" and "runs only once" under re-entrant and concurrent emits (`self.__dict__.pop("armed", False)` happens before anything else; only the first call finds it); "its listener is off the bus from then on, while the handler still runs" (`bus.off(event, self)` before the handler); "`bus.off(event, handler)` (with the handler you were given, or an equal one such as a new `obj.handle` of the same object; not any wrapper of yours)" (`__wrapped__` is the handler; the partial's own function is the trampoline, so the bus sees a sync listener and awaits what it returns if awaitable); "removes only its own wrapper" (it offs `self`); "**The same handler given twice** makes two registrations" (one instance per call); "each use is a registration of its own" (the decorator calls `once` for each function); "What `bus.on` refuses, `once` refuses too ... the decorator too" (`bus.on(event, priority=priority)` runs when the decorator is made); "pass it on unchanged"; "exactly the positional and keyword arguments given to `emit`" (the trampoline's own parameter is positional-only, so an emit keyword `fn` or `event` reaches the handler); "whatever the handler returns that is awaitable ... is awaited ... once" (the bus awaits the returned awaitable once); "its exception reaches the bus" (nothing is caught); "returns `handler` itself".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _call(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


class _OnceListener(functools.partial):
    """``partial(_call, handler)`` that lets only its first call through."""

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if not self.__dict__.pop("armed", False):
            return None
        bus, event = self.__dict__.pop("home")
        bus.off(event, self)
        return super().__call__(*args, **kwargs)


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

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorate

    listener = _OnceListener(_call, handler)
    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    listener.home = (bus, event)  # type: ignore[attr-defined]
    listener.armed = True  # type: ignore[attr-defined]
    bus.on(event, listener, priority=priority)
    return handler
