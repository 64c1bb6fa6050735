"""Style: each registration owns a primed generator "gate" that yields True exactly once; a sync listener asks it with next() before calling the handler and hands any awaitable back to the bus.

Follows: "Exactly once" / "Re-entrant emits" / "Concurrent emits": the gate is consumed by `next(gate)` before the handler is called, with no await in between, so a re-entrant or concurrent call finds it closed; "Nothing left behind": the listener takes itself off with `bus.off(event, listener)` before calling, even if the handler raises or the emit is cancelled; "Cancelling": `listener.__wrapped__ = handler`, so `bus.off(event, handler)` finds it; "A handler that raises counts as fired" and is not caught; "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited": the sync listener returns it and the bus awaits it once; "Arguments": `*args, **kwargs` only; "Decorator or call": `handler is None` selects the decorator, each use calls `once` anew; "Priority": passed on unchanged; "Only `on` and `off`".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from day25 import EventBus, EventPriority


def _gate() -> Iterator[bool]:
    yield True
    while True:
        yield False


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

    gate = _gate()

    def listener(*args: Any, **kwargs: Any) -> Any:
        if not next(gate):
            return None
        bus.off(event, listener)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return _settle(result)
        return None

    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, listener, priority=priority)
    return handler


async def _settle(awaitable: Any) -> None:
    await awaitable
