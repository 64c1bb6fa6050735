"""Bug: ``once`` refuses every ``int`` subclass other than ``EventPriority`` with ``TypeError`` (generalising "a bool is no level"), so a member of the caller's own ``IntEnum`` is refused instead of being passed on as the int it is.

Breaks: "A member of an `IntEnum` of your own (`URGENT = 10`) is an `int`: the bus takes it by its value, even one named like a level" and "`priority=True` (a `bool` is no level to the bus) raises the `TypeError` that `bus.on` raises" ... with `class Level(IntEnum): URGENT = 10`, `once(bus, "e", h, priority=Level.URGENT)` raises TypeError, where it should register h to run before a HIGHEST listener.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _refuse_odd_ints(priority: Any) -> None:
    # A bool is an int to Python but no level to the bus; the same goes for any
    # other int in disguise. EventPriority members and plain ints are fine.
    if isinstance(priority, int) and not isinstance(priority, EventPriority):
        if type(priority) is not int:
            raise TypeError(
                "priority must be an EventPriority, a level name or an int, "
                f"not {priority!r}"
            )


class _Listener:
    """What goes on the bus: called at most once, off the bus before the handler runs."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        functools.update_wrapper(self, handler)
        self._bus = bus
        self._event = event
        self._pending = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self._pending:
            return None
        self._pending = False
        self._bus.off(self._event, self)
        result = self.__wrapped__(*args, **kwargs)
        if inspect.isawaitable(result):
            return self._finish(result)
        return None

    @staticmethod
    async def _finish(awaitable: Any) -> None:
        await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    _refuse_odd_ints(priority)
    if handler is None:
        bus.on(event, priority=priority)

        def use(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return use
    bus.on(event, _Listener(bus, event, handler), priority=priority)
    return handler
