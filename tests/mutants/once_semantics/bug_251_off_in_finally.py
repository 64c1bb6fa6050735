"""Bug: the wrapper takes itself off the bus in a `finally:` after calling the handler ("cleanup always runs, even if it raises"), so for a sync handler its listener is still on the bus while the handler runs.

Breaks: "It fired when it was called: its listener is off the bus from then on, while the handler still runs (and any emit made inside it) too" ... `def h(): seen.append(len(bus.listeners("e")))`; `once(bus, "e", h); await bus.emit("e")` records `1` instead of `0` (and an emit made inside `h` still finds the spent listener in its snapshot).
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
        bus.on(event, priority=priority)  # validates event and priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    if not callable(handler):
        raise TypeError(f"a handler must be callable, not {handler!r}")

    fired = False

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:  # a re-entrant or concurrent emit still holding us in its snapshot
            return None
        fired = True  # before the call: re-entrant emits and raising handlers count as fired
        try:
            return handler(*args, **kwargs)
        finally:
            bus.off(event, wrapper)  # cleanup always runs, even when the handler raises

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]  # bus.off(event, handler)
    bus.on(event, wrapper, priority=priority)
    return handler
