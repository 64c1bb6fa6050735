"""Bug: to stay under the bus's ``max_listeners`` (Node's MaxListenersExceededWarning habit), a new once-registration evicts the oldest still-pending one of the same event when the event already has ``max_listeners`` of them.

Breaks: "**Exactly once**: `handler` runs on the next emit of `event`, and never again." ... "**The same handler given twice** makes two registrations: each fires once" ... on `EventBus()` (max_listeners 50), giving `once(bus, "e", h)` 51 times and then `await bus.emit("e", 1)` runs `h` 50 times, not 51: the first registration was taken off unannounced.
"""

from __future__ import annotations

import inspect
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# bus -> event -> its pending once-wrappers, oldest first
_pending: weakref.WeakKeyDictionary[EventBus, dict[str, deque[Any]]] = weakref.WeakKeyDictionary()


def _make_room(bus: EventBus, event: str) -> deque[Any]:
    queue = _pending.setdefault(bus, {}).setdefault(event, deque())
    listed = bus.listeners(event)
    for wrapper in list(queue):  # forget the ones that fired or were cancelled
        if not any(cb is wrapper for cb in listed):
            queue.remove(wrapper)
    limit = bus.max_listeners
    while limit and len(queue) >= limit:
        oldest = queue.popleft()
        oldest.spent = True
        bus.off(event, oldest)  # keeps the bus under its listener limit
    return queue


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

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if wrapper.spent:
            return None
        wrapper.spent = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return await result
        return result

    wrapper.spent = False  # type: ignore[attr-defined]
    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    _make_room(bus, event).append(wrapper)
    bus.on(event, wrapper, priority=priority)
    return handler
