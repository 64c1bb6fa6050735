"""Bug: it checks the event name itself and only accepts a pattern of the form ``prefix:*``, so the bare ``"*"`` pattern is refused with a ValueError.

Breaks: "`event` may be a wildcard pattern (`"ui:*"`, `"*"`): the handler fires on the next event it hears, and then nothing of yours is left under the pattern." ... `once(bus, "*", handler)` raises ValueError instead of registering, so the next `emit("anything")` never calls the handler.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _check_name(event: str) -> str:
    """Fail early, in the caller's frame, on a malformed name or pattern."""
    if "*" in event and not (event.endswith(":*") and event.count("*") == 1):
        raise ValueError(f"'*' may only end a pattern such as 'ui:*', not {event!r}")
    return event


async def _settle(awaitable: Any) -> None:
    await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    _check_name(event)
    if handler is None:

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register

    fired = False

    def listener(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, listener)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return _settle(result)
        return None

    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, listener, priority=priority)
    return handler
