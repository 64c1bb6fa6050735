"""Bug: the wrapper awaits whatever the handler returned, JavaScript-style, and treats a ``TypeError`` from that ``await`` as "not awaitable, a plain value", so a ``TypeError`` raised inside an async handler is swallowed.

Breaks: "A handler that raises counts as fired (it never runs again), and its exception reaches the bus (do not catch it, do not wrap it in another): the bus goes on with the other listeners and returns that very exception in the emit's result" ... `async def h(x): raise TypeError("bad")` given with `once`: `await bus.emit("e", 1)` returns a result with no errors (so does a handler returning a done Future whose exception is a TypeError).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventBus, EventPriority


@dataclass
class _Ticket:
    armed: bool = True


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

    ticket = _Ticket()

    async def listener(*args: Any, **kwargs: Any) -> Any:
        if not ticket.armed:
            return None
        ticket.armed = False
        bus.off(event, listener)
        result = handler(*args, **kwargs)
        try:
            return await result  # like JS: await works on a promise or a value
        except TypeError:
            return result  # "can't be used in 'await' expression": a plain value

    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, listener, priority=priority)
    return handler
