"""Exercise 2: once_semantics. A closure wrapper; the event name is tidied before use.

BUG (planted): the page says "`event` is any name the bus takes (`"first.login"`,
`"room[1]:joined"`), a name as it is". This version strips the name first
(``event = event.strip()``), a habit from names read out of config files, so
``"e "`` and ``"e"`` become one event: ``once(bus, "e ", h)`` fires on
``emit("e")`` and never on ``emit("e ")``, and ``bus.off("e ", h)`` no longer
cancels it.
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
    if isinstance(event, str):
        event = event.strip()

    if handler is None:
        bus.on(event, priority=priority)

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    if not callable(handler):
        raise TypeError(f"{handler!r} is not callable")

    has_run = False

    def once_wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal has_run
        if has_run:
            return None
        has_run = True
        bus.off(event, once_wrapper)
        return handler(*args, **kwargs)

    once_wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, once_wrapper, priority=priority)
    return handler
