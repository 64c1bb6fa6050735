"""Style: the bus holds a plain ``lambda`` trampoline that forwards to a ``Slot`` object's sync ``fire`` method; ``fire`` empties the slot and hands the handler's result back for the bus to await.

Follows: "`handler` runs on the next emit of `event`, and never again" (`fire` takes the handler out of the slot and calls `bus.off(event, trampoline)` before calling it, so a re-entrant or concurrent emit finds the slot empty); "A sync handler too" (the slot is emptied before the handler's own `bus.emit(event)` can reach us); "`bus.off(event, handler)` (with the handler you were given ...)" (the trampoline's `__wrapped__` is the handler); "your `once` removes only its own wrapper (`bus.off(event, wrapper)`)"; "`event` may be a wildcard pattern" (removal under the key it was registered with); "the decorator form is the one without a handler (`handler is None`)" and "each use is a registration of its own" (every call of the returned decorator makes a new slot); "all return `handler` itself"; "pass it on unchanged" (priority to `bus.on`); "a wrapper of yours takes `*args, **kwargs` only" (the lambda and `fire` take nothing else); "whatever the handler returns that is awaitable ... is awaited" and "awaited once" (a sync listener's awaitable result is awaited by the bus, exactly once; anything else is left alone); a raising handler's exception is not caught.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class Slot:
    """Holds the handler until the first emit takes it."""

    __slots__ = ("bus", "event", "handler", "listener")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.handler: Callable[..., Any] | None = handler
        self.listener: Callable[..., Any] | None = None

    def fire(self, *args: Any, **kwargs: Any) -> Any:
        if self.listener is None:  # already taken (re-entrant or concurrent emit)
            return None
        take, self.listener = self.listener, None
        run, self.handler = self.handler, None
        self.bus.off(self.event, take)
        assert run is not None
        return run(*args, **kwargs)  # an awaitable is awaited by the bus, once


def _register(
    bus: EventBus, event: str, handler: Callable[..., Any], priority: Any
) -> Callable[..., Any]:
    slot = Slot(bus, event, handler)
    trampoline = lambda *args, **kwargs: slot.fire(*args, **kwargs)  # noqa: E731
    trampoline.__wrapped__ = handler  # type: ignore[attr-defined]
    slot.listener = trampoline
    bus.on(event, trampoline, priority=priority)
    return handler


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return lambda fn: _register(bus, event, fn, priority)
    return _register(bus, event, handler, priority)
