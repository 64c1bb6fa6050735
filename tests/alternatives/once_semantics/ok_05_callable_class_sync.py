"""Style: a callable class instance as the listener, with a plain (sync) __call__.

Correct because the instance keeps its own fired flag (set before the handler is
called, so re-entrant and concurrent emits that still hold it in their snapshot
skip it), takes only itself off the bus with bus.off(event, self) before the
call, and carries __wrapped__ (set by functools.update_wrapper before bus.on, so
the bus files it under the handler and bus.off(event, handler) finds it). The
sync __call__ returns whatever the handler returned; the bus awaits an awaitable
returned by any listener, so coroutines, async __call__ objects and Tasks are
awaited, and an exception (raised in the call or when awaited) reaches the bus
unchanged. Priority is passed on to bus.on unchanged, and once returns the
handler itself in every call form.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    """One registration: fires at most once, then it is gone from the bus."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        functools.update_wrapper(self, handler)
        self._once_bus = bus
        self._once_event = event
        self._once_handler = handler
        self._once_fired = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._once_fired:
            return None
        self._once_fired = True
        self._once_bus.off(self._once_event, self)
        return self._once_handler(*args, **kwargs)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)
        return decorate
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
