"""Bug: a handler that raised is written into a per-bus "spent" list and any later ``once`` of that handler on that bus is silently not registered, as if "counts as fired (it never runs again)" applied to every future registration.

Breaks: "**Exactly once**: `handler` runs on the next emit of `event`, and never again." ... "counts as fired (it never runs again)" is about the registration that raised, yet for a handler `a` that raised once, `once(bus, "e", a); await bus.emit("e", 1)` reports the error as it should but a later `once(bus, "e", a); await bus.emit("e", 2)` never calls `a`.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# per bus, the handlers that raised on it (weak on the bus: a new bus starts clean)
_SPENT: weakref.WeakKeyDictionary[EventBus, list[Any]] = weakref.WeakKeyDictionary()


def _spent(bus: EventBus, handler: Any) -> bool:
    return any(h is handler or h == handler for h in _SPENT.get(bus, ()))


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
    if _spent(bus, handler):
        return handler  # it raised: it counts as fired, it does not run again

    done = [False]

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if done[0]:
            return None
        done[0] = True
        bus.off(event, wrapper)
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        except Exception:
            _SPENT.setdefault(bus, []).append(handler)
            raise  # the bus gets the handler's own exception
        return result

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)
    return handler
