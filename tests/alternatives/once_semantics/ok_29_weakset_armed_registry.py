"""Style: each registration is a slotted callable object, and "not fired yet" means "still in a module-wide ``weakref.WeakSet`` of armed listeners", which a call leaves atomically before anything can await or emit.

Follows: "**Exactly once**: `handler` runs on the next emit of `event`, and never again" (the first call leaves ``_ARMED``; any later call, from a snapshot, a re-entrant or a concurrent emit, finds itself gone and returns) and "nothing of it reaches another bus ... (keep no state by id in the module)" (the set holds each listener object weakly, so it forgets a listener as soon as the listener is gone, and no two buses share one); "`bus.off(event, handler)` (with the handler you were given ...) before the event is emitted means it never runs" / "Cancelling *during* an emit ... the handler still runs that once, and never after" (``__wrapped__`` is the handler, so the bus's ``off`` finds the listener; an emit that already holds it still calls it once); "after it fired, the bus holds no listener of yours for `event`" (``bus.off(event, self)`` first, on the pattern itself for a wildcard); "`@once(bus, "e")` ... each use is a registration of its own" and "all return `handler` itself" (the decorator calls ``once`` again for every function); "pass it on unchanged" (``priority`` goes to ``bus.on`` as given); "exactly the positional and keyword arguments given to `emit`" (``__call__(self, *args, **kwargs)``); "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited ... It is awaited once" and "its exception reaches the bus (do not catch it, do not wrap it in another)" (one ``await``, no ``try``); "the same handler given twice makes two registrations" / "A permanent listener survives" (a new object per call; it only ever removes itself); "Only `on` and `off` register and remove".
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# Every registration that has not been called yet. Weak: a listener that is gone (fired,
# cancelled, its bus dropped) leaves the set by itself.
_ARMED: weakref.WeakSet[_OnceListener] = weakref.WeakSet()


class _OnceListener:
    """What ``once`` puts on the bus: calls the handler the first time it is called."""

    __slots__ = ("__weakref__", "__wrapped__", "_bus", "_event")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self.__wrapped__ = handler  # bus.off(event, handler) finds us by it
        _ARMED.add(self)

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self not in _ARMED:
            return None  # fired already: a snapshot, re-entrant or concurrent emit
        _ARMED.discard(self)  # no await between the test and this line
        self._bus.off(self._event, self)
        result = self.__wrapped__(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
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

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
