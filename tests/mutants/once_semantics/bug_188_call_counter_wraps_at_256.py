"""Bug: the listener numbers the calls that reach it in a one-byte counter and runs the handler on call number 1, so the 257th call (the counter wrapped to 1 again) runs the handler a second time.

Breaks: "**Concurrent emits**: `await asyncio.gather(bus.emit(event, 1), bus.emit(event, 2))` with async listeners runs the handler once in total." ... with an async listener on `"e"` and `once(bus, "e", h)`, `await asyncio.gather(*(bus.emit("e", i) for i in range(300)))` gives 300 snapshots holding the listener: `h` runs for emit 0 and again for emit 256.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _register(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> None:
    calls = bytearray(1)  # call number, one byte: only number 1 gets through

    def listener(*args: Any, **kwargs: Any) -> Any:
        calls[0] = (calls[0] + 1) & 0xFF
        if calls[0] != 1:
            return None  # a re-entrant or concurrent emit's snapshot: already taken
        bus.off(event, listener)
        return handler(*args, **kwargs)

    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, listener, priority=priority)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is not None:
        _register(bus, event, handler, priority)
        return handler
    bus.on(event, priority=priority)  # same refusals as bus.on, nothing registered

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        _register(bus, event, fn, priority)
        return fn

    return decorator
