"""Bug: re-entrancy is guarded by one module-level "running" slot that each wrapper clears (instead of restoring) when its handler returns, and the fired flag is only set then.

Breaks: "Re-entrant emits: if a listener (or the handler itself) emits `event` again while the first emit is running, the handler still runs only once. A sync handler too" ... a sync once-handler of "a" that first emits "b" (which has a once-handler of its own) and then emits "a": the "b" wrapper empties the slot, so the "a" wrapper, not yet marked fired, runs its handler a second time.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_running: Callable[..., Any] | None = None  # the once-listener whose handler runs now


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

    done = False

    def listener(*args: Any, **kwargs: Any) -> Any:
        global _running
        nonlocal done
        if done or _running is listener:
            return None
        _running = listener
        try:
            result = handler(*args, **kwargs)
        finally:
            _running = None
            done = True
            bus.off(event, listener)
        if inspect.isawaitable(result):
            return result  # the bus awaits it
        return None

    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, listener, priority=priority)
    return handler
