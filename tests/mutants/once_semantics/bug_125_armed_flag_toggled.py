"""Bug: the wrapper flips its ``armed`` flag on every call (``not``) instead of clearing it, so the first late call from an emit that still holds the wrapper is skipped but the one after that fires the handler again.

Breaks: "`await asyncio.gather(bus.emit(event, 1), bus.emit(event, 2))` with async listeners runs the handler once in total." and "`handler` runs on the next emit of `event`, and never again." ... two concurrent emits behave, but with a slow HIGH async listener on "e", `await asyncio.gather(*(bus.emit("e", i) for i in (1, 2, 3)))` runs the once-handler for payloads 1 and 3.
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

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    state = {"armed": True}

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # sync on purpose: the check and the disarm cannot be interleaved by another emit;
        # whatever the handler returns goes back to the bus, which awaits an awaitable
        armed = state["armed"]
        state["armed"] = not state["armed"]  # disarm
        if not armed:
            return None
        bus.off(event, wrapper)
        return handler(*args, **kwargs)

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)
    return handler
