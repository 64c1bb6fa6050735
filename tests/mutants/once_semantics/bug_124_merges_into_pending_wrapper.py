"""Bug: giving a handler that already has a pending once-wrapper on the event bumps that wrapper's count instead of registering a new one, so the second registration runs where and when the first one does.

Breaks: "**The same handler given twice** makes two registrations: each fires once" and "`once(bus, event, handler)` called by a listener (or by the handler itself) while an emit of `event` runs counts from the next emit" (and "the handler runs at `priority` among the event's other listeners, in every call form") ... `once(bus, "e", a, priority=LOW)` then `once(bus, "e", a, priority=HIGH)` around a MEDIUM `mid` runs `mid, a, a` instead of `a, mid, a`; and a HIGH listener that calls `once(bus, "e", a)` during emit 1 gets `a` run twice in emit 1 and not at all in emit 2.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    """A pending once-registration of ``handler``; ``times`` calls are owed on the next emit."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self.__wrapped__ = handler
        self.times = 1
        self.fired = False

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fired:
            return None
        self.fired = True
        self._bus.off(self._event, self)
        result = None
        for _ in range(self.times):
            result = self.__wrapped__(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        return result


def _pending(bus: EventBus, event: str, handler: Any) -> _OnceListener | None:
    """Our not yet fired listener of ``handler`` on ``event``, if there is one."""
    for listener in bus.listeners(event):
        if (
            isinstance(listener, _OnceListener)
            and not listener.fired
            and (listener.__wrapped__ is handler or listener.__wrapped__ == handler)
        ):
            return listener
    return None


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
            return once(bus, event, fn, priority=priority)

        return decorator
    existing = _pending(bus, event, handler)
    if existing is not None:
        existing.times += 1  # given twice: one listener, two calls
    else:
        bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
