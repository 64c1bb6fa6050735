"""Bug: a callable last positional argument of the emit is taken as a socket.io-style acknowledgement: it is not passed to the handler but called afterwards with the handler's return value.

Breaks: "the handler gets exactly the positional and keyword arguments given to `emit`, however many and whatever their names" ... "Nothing trims them" ... `once(bus, "e", h)` then `await bus.emit("e", 1, print)` calls `h(1)` and then `print(<what h returned>)` instead of calling `h(1, print)`; an emit whose only payload is a callable calls `h()`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _ack_when_done(awaitable: Any, ack: Callable[..., Any]) -> Any:
    value = await awaitable
    ack(value)
    return value


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

    fired = False

    def listener(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, listener)
        ack = None
        if args and callable(args[-1]):
            # like socket.io: a function sent last is the acknowledgement callback
            *rest, ack = args
            args = tuple(rest)
        result = handler(*args, **kwargs)
        if ack is None:
            return result  # the bus awaits it if it is awaitable
        if inspect.isawaitable(result):
            return _ack_when_done(result, ack)
        ack(result)
        return result

    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, listener, priority=priority)
    return handler
