"""Exercise 2: once_semantics.

A closure-based solution around `functools.wraps`: `_make_listener` builds a sync
function that the bus registers. wraps gives it `__wrapped__ = handler` (so
`bus.off(event, handler)` cancels it) and copies the handler's attributes, which is
why the listener's own state is a closure cell (`state`, a one-key dict) and not an
attribute: no handler attribute can overwrite it. On its first call the listener marks
itself used and leaves the bus before calling the handler, so re-entrant and concurrent
emits that still hold it in their snapshot find it used; the handler's return value goes
back to the bus, which awaits an awaitable once and records any exception as the
handler's error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _make_listener(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    state = {"used": False}

    def listener(*args: Any, **kwargs: Any) -> Any:
        if state["used"]:
            return None
        state["used"] = True
        bus.off(event, listener)
        return handler(*args, **kwargs)

    try:
        functools.update_wrapper(listener, handler)
    except (AttributeError, TypeError):  # an odd handler: the one attribute we need
        pass
    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    return listener


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # raises now if bus.on would; registers nothing
        return functools.partial(_register, bus, event, priority)
    return _register(bus, event, priority, handler)


def _register(bus: EventBus, event: str, priority: Any, handler: Callable[..., Any]) -> Any:
    if not callable(handler):
        raise TypeError(f"once() needs a callable handler, got {handler!r}")
    bus.on(event, _make_listener(bus, event, handler), priority=priority)
    return handler
