"""Bug: when one once-registration fires it takes every once-wrapper this module has on that event off the bus (not only its own), so a registration given during the emit is wiped before its turn.

Breaks: "after it fired, the bus holds no listener of yours for `event`" (read as: no once-listener of this module at all) against "`once(bus, event, handler)` called by a listener (or by the handler itself) while an emit of `event` runs counts from the next emit, like any `bus.on` then (snapshot). So a handler that gives itself again fires once per emit" ... `once(bus, "e", a, priority=HIGH)` where `a` gives itself again, plus `once(bus, "e", b, priority=LOW)`: the first emit runs a then b, and b's firing takes a's new registration off, so the second emit runs nothing instead of a.
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Pending:
    """The once-wrappers this module keeps on one bus, by event."""

    def __init__(self) -> None:
        self.by_event: dict[str, list[Callable[..., Any]]] = {}

    def add(self, event: str, wrapper: Callable[..., Any]) -> None:
        self.by_event.setdefault(event, []).append(wrapper)

    def clear(self, bus: EventBus, event: str) -> None:
        # "the bus holds no listener of yours for event": take them all off
        for wrapper in self.by_event.pop(event, []):
            bus.off(event, wrapper)


_PENDING: weakref.WeakKeyDictionary[EventBus, _Pending] = weakref.WeakKeyDictionary()


def _pending(bus: EventBus) -> _Pending:
    found = _PENDING.get(bus)
    if found is None:
        found = _PENDING[bus] = _Pending()
    return found


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # refuses what bus.on refuses, now

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register

    fired = False
    pending = _pending(bus)

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        pending.clear(bus, event)
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    pending.add(event, wrapper)
    return handler
