"""Bug: a ``TypeError`` raised by the handler call is caught and replaced by a new ``TypeError`` with a friendlier message (chained ``from`` the original).

Breaks: "a handler whose parameters do not fit raises Python's `TypeError`, which counts as its error" and "its exception reaches the bus (do not catch it, do not wrap it in another): the bus goes on with the other listeners and returns that very exception in the emit's result" ... with `def h(): ...` given to `once` and `await bus.emit("e", 1)`, `result.errors[0]` is a new `TypeError("once handler ... cannot take ...")`, not the one Python raised; a handler that raises `TypeError("bad input")` itself also reaches the bus as a different object with a different message.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    """What is registered on the bus: calls the handler on the first call only."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.handler = handler
        self.fired = False
        self.__wrapped__ = handler  # bus.off(event, handler) finds us by it

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self.fired:
            return
        self.fired = True
        self.bus.off(self.event, self)
        try:
            result = self.handler(*args, **kwargs)
        except TypeError as exc:
            # the usual cause: the handler's parameters do not fit the emit's arguments
            raise TypeError(
                f"once handler {self.handler!r} cannot take the arguments of "
                f"{self.event!r}: args={args!r}, kwargs={kwargs!r}"
            ) from exc
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
    if handler is None:

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
