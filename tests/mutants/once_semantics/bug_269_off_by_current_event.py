"""Exercise 2: once_semantics. A reusable listener class that asks the bus which event it is hearing.

BUG (planted): "`event` may be a wildcard pattern (`"ui:*"`, `"*"`): the handler fires on
the next event it hears, and then nothing of yours is left under the pattern." This
version's listener does not keep the name it was registered under; when it fires it takes
itself off ``current_event()``, the concrete event it heard (``"ui:a"``), so a once given
on ``"ui:*"`` stays registered under the pattern for ever (its flag keeps it quiet, but
``bus.listeners("ui:*")`` keeps it). A student writes it because ``current_event()`` looks
like the natural way for a listener to know "its" event, and for plain names both agree.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority, current_event


class _Once:
    """Call the handler the first time the bus calls us; then take ourselves off."""

    __slots__ = ("__wrapped__", "_bus", "_spent")

    def __init__(self, bus: EventBus, handler: Callable[..., Any]) -> None:
        self.__wrapped__ = handler
        self._bus = bus
        self._spent = False

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self._spent:
            return
        self._spent = True
        self._bus.off(current_event(), self)  # off the event we are hearing
        result = self.__wrapped__(*args, **kwargs)
        if inspect.isawaitable(result):
            await result


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    bus.on(event, priority=priority)  # raises what bus.on raises, adds nothing

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        bus.on(event, _Once(bus, fn), priority=priority)
        return fn

    return register if handler is None else register(handler)
