"""Exercise 2: once_semantics.

The listener put on the bus is an instance of a small class with __slots__: its bus,
event, handler and fired flag live in slots, so no attribute of the handler can
replace them (nothing is copied over), and its __wrapped__ slot holds the handler, so
bus.off(event, handler) finds it. __call__ raises the flag and takes the listener off
the bus before it calls the handler; whatever the handler returns that is awaitable is
handed back to the bus in a coroutine that awaits it once. The priority is checked
with day25's coerce_priority (the bus's own rule) and then passed on unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority, coerce_priority


async def _await_once(awaitable: Any) -> None:
    await awaitable


class _OneShot:
    """A plain bus listener that runs ``handler`` on its first call only."""

    __slots__ = ("__wrapped__", "_bus", "_event", "_fired", "_handler")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self._handler = handler
        self._fired = False
        self.__wrapped__ = handler  # what bus.off(event, handler) looks for

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._fired:  # an emit that listed us before we fired
            return None
        self._fired = True
        self._bus.off(self._event, self)
        outcome = self._handler(*args, **kwargs)
        if inspect.isawaitable(outcome):
            return _await_once(outcome)
        return None


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    coerce_priority(priority)  # TypeError / ValueError as bus.on, in every form
    if handler is None:

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        bus.listeners(event)  # a bad event name fails here, as bus.on would
        return register
    if not callable(handler):
        raise TypeError(f"a once handler must be callable, not {handler!r}")
    bus.on(event, _OneShot(bus, event, handler), priority=priority)
    return handler
