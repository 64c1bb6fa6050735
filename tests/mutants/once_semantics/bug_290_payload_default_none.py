"""Exercise 2: once_semantics. A closure wrapper that mirrors the bus's own ``emit(event, payload, /, *args)`` signature.

BUG (planted): "the handler gets exactly the positional and keyword arguments given to
`emit` ... `emit("e")` calls `handler()`". The wrapper takes a positional-only ``payload``
defaulting to ``None`` (copied from the shape of ``EventBus.emit``), and always passes it on,
so an emit without arguments calls ``handler(None)``: a handler with no parameters raises
``TypeError`` in the emit, and one with a default parameter gets ``None`` instead of its default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # raises what bus.on raises, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = False

    def wrapper(payload: Any = None, /, *args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        return handler(payload, *args, **kwargs)

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)
    return handler
