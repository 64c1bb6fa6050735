"""Style: a ``__slots__`` listener class whose armed state is the presence of a slot holding the handler: the one call that fires deletes it (``del``), so "armed?" and "claim" are one attribute, and the handler's result goes back to the bus.

Follows: "Exactly once ... never again" and "Re-entrant emits" / "Concurrent emits": the slot is deleted before the handler is called, with no await in between, so any later call of the same listener (a re-entrant emit, or one whose snapshot was taken earlier) finds it gone and returns; "Once called it has run, even if the emit is cancelled": the slot is gone before the call. "Nothing left behind": it calls `bus.off(event, self)` with the key it was registered under (a pattern too). "Cancelling": `__wrapped__` is the handler, so `bus.off(event, handler)` finds it; during an emit the snapshot still calls it once. "Decorator or call": `handler is None` picks the decorator, each use builds a new listener, every form returns `handler` and passes `priority` unchanged to `bus.on`. "Arguments": `__call__(self, /, *args, **kwargs)` passes them on as they are (`self` is positional-only, so an emit keyword named `self` reaches the handler). "Sync and async handlers": what the handler returns is returned to the bus, which awaits it once if `inspect.isawaitable` (falsy ones too). "A handler that raises": nothing is caught. "The same handler given twice" / "A permanent listener survives": each registration is its own object and only `bus.off(event, self)` is used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OneShot:
    __slots__ = ("__wrapped__", "_bus", "_event", "_loaded")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.__wrapped__ = handler  # how bus.off(event, handler) finds this listener
        self._bus = bus
        self._event = event
        self._loaded = handler  # present while armed; deleted by the call that fires

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        try:
            handler = self._loaded
        except AttributeError:  # fired already (an emit that snapshotted us earlier)
            return None
        del self._loaded
        self._bus.off(self._event, self)
        return handler(*args, **kwargs)  # the bus awaits it if it is awaitable

    def __repr__(self) -> str:
        return f"<once {self._event!r} {self.__wrapped__!r}>"


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def use(fn: Callable[..., Any]) -> Callable[..., Any]:
            bus.on(event, _OneShot(bus, event, fn), priority=priority)
            return fn

        return use
    bus.on(event, _OneShot(bus, event, handler), priority=priority)
    return handler
