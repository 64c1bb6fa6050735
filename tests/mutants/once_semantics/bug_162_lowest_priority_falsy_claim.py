"""Bug: the ledger of armed registrations maps each wrapper to its priority and claims with a truthiness test, so a registration at priority 0 (``EventPriority.LOWEST`` or ``0``) is never claimed: it never fires and stays on the bus.

Breaks: "**Exactly once**: `handler` runs on the next emit of `event`, and never again." and "the handler runs at `priority` among the event's other listeners, in every call form" ... `once(bus, "e", h, priority=EventPriority.LOWEST)` then `await bus.emit("e", 1)` never calls `h`, and `len(bus.listeners("e"))` stays 1.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Ledger:
    """The once-registrations of one ``once`` call that are still armed, with their level."""

    def __init__(self) -> None:
        self.armed: dict[Callable[..., Any], Any] = {}

    def arm(self, wrapper: Callable[..., Any], priority: Any) -> None:
        self.armed[wrapper] = priority

    def claim(self, wrapper: Callable[..., Any]) -> bool:
        level = self.armed.pop(wrapper, None)
        return bool(level)


async def _await_once(awaitable: Any) -> None:
    await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return lambda fn: once(bus, event, fn, priority=priority)

    ledger = _Ledger()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not ledger.claim(wrapper):
            return None
        bus.off(event, wrapper)
        outcome = handler(*args, **kwargs)
        return _await_once(outcome) if inspect.isawaitable(outcome) else None

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    ledger.arm(wrapper, priority)
    bus.on(event, wrapper, priority=priority)
    return handler
