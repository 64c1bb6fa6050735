"""Bug: each bus keeps a first-in-first-out ledger of the wrappers registered per (event, handler), and a firing wrapper takes the *oldest* entry off the bus instead of itself; entries of cancelled (or refused) registrations are never dropped, so a later registration of the same handler removes a dead entry and leaves its own wrapper on the bus.

Breaks: "after it fired, the bus holds no listener of yours for `event` (`len(bus.listeners(event))` is back where it was)" ... `once(bus, "e", a); bus.off("e", a); once(bus, "e", a); await bus.emit("e", 1)` runs `a` once but `len(bus.listeners("e"))` stays 1 (likewise after a `once(..., priority="urgent")` that raised ValueError).
"""

from __future__ import annotations

import inspect
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# bus -> [(event, handler, deque of wrappers), ...]; weak, so a dropped bus takes its ledger
_LEDGERS: weakref.WeakKeyDictionary[EventBus, list[tuple[str, Any, deque[Any]]]] = (
    weakref.WeakKeyDictionary()
)


def _queue(bus: EventBus, event: str, handler: Any) -> deque[Any]:
    """The wrappers registered on ``bus`` for ``handler`` under ``event``, oldest first."""
    ledger = _LEDGERS.setdefault(bus, [])
    for key, fn, queue in ledger:
        if key == event and fn is handler:
            return queue
    queue: deque[Any] = deque()
    ledger.append((event, handler, queue))
    return queue


class _Once:
    """One registration: fires once, then takes the oldest registration of its handler off."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.handler = handler
        self.__wrapped__ = handler  # how bus.off(event, handler) finds us
        self.fired = False

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fired:
            return None
        self.fired = True
        queue = _queue(self.bus, self.event, self.handler)
        oldest = queue.popleft() if queue else self
        self.bus.off(self.event, oldest)  # registrations of one handler fire in order
        result = self.handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return await result
        return result


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
    wrapper = _Once(bus, event, handler)
    _queue(bus, event, handler).append(wrapper)
    bus.on(event, wrapper, priority=priority)
    return handler
