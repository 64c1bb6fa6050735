"""Style: one registrar object serves both forms; it keeps its own ledger ``{serial: handler}`` of armed registrations (serials from ``itertools.count``), and each registration's ``async def`` wrapper claims with ``ledger.pop(serial, None)`` and awaits the handler's awaitable itself.

Follows: "Exactly once": `pop` removes the serial before the handler is called, with no await in between, so a re-entrant or concurrent emit, or an old snapshot, finds nothing and returns; a cancelled emit cannot re-arm it (nothing puts a serial back). "nothing of it reaches another bus": the ledger belongs to the registrar, made per call of `once`, nothing is kept in the module. "Nothing left behind": the wrapper calls `bus.off(event, wrapper)` (the pattern for a pattern). "Cancelling": `wrapper.__wrapped__ = handler`. "Decorator or call": `once` returns the registrar when `handler is None`, and every use of it is a new serial and a new wrapper; both forms return `handler` and pass `priority` unchanged to `bus.on`. "Arguments": the wrapper takes `*args, **kwargs` only. "Sync and async handlers": `inspect.isawaitable(result)` decides, and the result is awaited once; anything else (a generator, an async generator) is a value. "A handler that raises": nothing is caught (only `StopIteration` becomes `RuntimeError` through `async def`, as allowed). "The same handler given twice": two serials, two wrappers. "A permanent listener survives": only `bus.off(event, wrapper)`.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Registrar:
    """Gives handlers to ``bus`` for the next ``event`` at ``priority``, once each."""

    def __init__(self, bus: EventBus, event: str, priority: Any) -> None:
        self._bus = bus
        self._event = event
        self._priority = priority
        self._serials = itertools.count()
        self._armed: dict[int, Callable[..., Any]] = {}

    def __call__(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        serial = next(self._serials)
        self._armed[serial] = handler
        bus, event, armed = self._bus, self._event, self._armed

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            target = armed.pop(serial, None)
            if target is None:
                return None
            bus.off(event, wrapper)
            result = target(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
            return result

        wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
        bus.on(event, wrapper, priority=self._priority)
        return handler


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    registrar = _Registrar(bus, event, priority)
    return registrar if handler is None else registrar(handler)
