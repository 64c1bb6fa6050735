"""Style: each registration is a ``__slots__`` record whose plain (sync) ``__call__`` disarms it, takes it off the bus and hands whatever the handler returns back to the bus, which awaits an awaitable once.

Follows: "Exactly once" / "Re-entrant emits" / "Concurrent emits": the record's ``armed`` slot is cleared before anything else, so a call from any snapshot taken earlier (re-entrant or concurrent) finds it disarmed; "It fired when it was called: its listener is off the bus from then on": ``bus.off(event, self)`` comes before the handler is called, and removes this record only (rule 12); "`bus.off(event, handler)` ... (with the handler you were given, or an equal one ...)": the ``__wrapped__`` slot holds the handler, which the bus files the record under; "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited ... It is awaited once": it is returned to the bus, which awaits what ``inspect.isawaitable`` accepts (falsy or not) once and keeps anything else as a value; "its exception reaches the bus (do not catch it, do not wrap it in another)": nothing is caught; "the handler gets exactly the positional and keyword arguments given to `emit`": ``__call__(self, /, *args, **kwargs)`` passes them on untouched; "`@once(bus, "e")` ... each use is a registration of its own": the decorator builds a new record per use; "A priority is anything `bus.on` takes ... pass it on unchanged ... What `bus.on` refuses, `once` refuses too ... the decorator too": ``priority`` goes to ``bus.on`` as given, and the decorator form asks ``bus.on(event, priority=...)`` first; "all return `handler` itself"; "Only `on` and `off` register and remove".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Record:
    """One once-registration; the bus finds it by ``__wrapped__`` (the handler)."""

    __slots__ = ("__wrapped__", "armed", "bus", "key")

    def __init__(self, bus: EventBus, key: str, handler: Callable[..., Any]) -> None:
        self.__wrapped__ = handler
        self.bus = bus
        self.key = key
        self.armed = True

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if not self.armed:
            return None
        self.armed = False
        self.bus.off(self.key, self)
        return self.__wrapped__(*args, **kwargs)  # the bus awaits an awaitable, once

    def __repr__(self) -> str:
        return f"once({self.__wrapped__!r})"


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # what bus.on refuses is refused here, at once

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            bus.on(event, _Record(bus, event, fn), priority=priority)
            return fn

        return register
    bus.on(event, _Record(bus, event, handler), priority=priority)
    return handler
