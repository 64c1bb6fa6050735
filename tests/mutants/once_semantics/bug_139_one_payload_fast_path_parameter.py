"""Bug: the wrapper copies the bus's one-payload fast path with a parameter of its own, ``payload``, that is not positional-only, so an emit keyword named ``payload`` is caught by it and passed on positionally.

Breaks: "the handler gets exactly the positional and keyword arguments given to `emit`, however many and whatever their names ... (so a wrapper of yours takes `*args, **kwargs` only: a parameter of its own named `event` would catch that keyword ...)" ... `await bus.emit("e", payload=5)` calls `handler(5)` instead of `handler(payload=5)` (a `def h(**kw)` handler then raises TypeError), and `emit("e", 1, payload=5)` makes the wrapper itself raise TypeError before it fires, so the handler runs at a later emit instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_NO_PAYLOAD: Any = object()  # emit(event) with no arguments at all


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register

    state = {"armed": True}

    def wrapper(payload: Any = _NO_PAYLOAD, *args: Any, **kwargs: Any) -> Any:
        if not state["armed"]:
            return None
        state["armed"] = False
        bus.off(event, wrapper)
        # Like the bus's hot path: almost every emit carries exactly one payload,
        # so that call skips packing and unpacking an args tuple.
        if payload is _NO_PAYLOAD:
            return handler(*args, **kwargs)
        if not args and not kwargs:
            return handler(payload)
        return handler(payload, *args, **kwargs)

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)
    return handler
