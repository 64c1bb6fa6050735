"""Bug: the listener is a partial of a helper that finds "its" listener in a registry slot keyed by (event, handler); a second once of the same handler overwrites the slot, so the first fire removes the sibling and leaves itself on the bus.

Breaks: "The same handler given twice makes two registrations: each fires once, so the handler runs twice on the next emit and never after" together with "after it fired, the bus holds no listener of yours for `event`".
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# per bus: (event, handler) -> the listener registered for it
_slots: weakref.WeakKeyDictionary[EventBus, dict[tuple[str, Any], Any]] = (
    weakref.WeakKeyDictionary()
)


async def _fire(bus: EventBus, event: str, handler: Callable[..., Any], state: dict[str, bool],
                *args: Any, **kwargs: Any) -> None:
    if state["fired"]:
        return
    state["fired"] = True
    mine = _slots.get(bus, {}).get((event, handler))
    if mine is not None:
        bus.off(event, mine)
    result = handler(*args, **kwargs)
    if inspect.isawaitable(result):
        await result


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
    listener = functools.partial(_fire, bus, event, handler, {"fired": False})
    functools.update_wrapper(listener, handler)
    _slots.setdefault(bus, {})[(event, handler)] = listener
    bus.on(event, listener, priority=priority)
    return handler
