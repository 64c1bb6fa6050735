"""Bug: plain functions get a ``functools.wraps`` closure, but every other callable (an object with ``__call__``, a ``functools.partial``, a C callable such as ``max``) goes through a small wrapper class that keeps the handler as ``.target`` and never sets ``__wrapped__``, so ``bus.off(event, handler)`` cannot find those registrations.

Breaks: "`bus.off(event, handler)` (with the handler you were given, or an equal one such as a new `obj.handle` of the same object; not any wrapper of yours) before the event is emitted means it never runs." and "A handler is any callable" ... `h = Counter()` (an instance with `__call__`), `once(bus, "e", h)`, `bus.off("e", h)`, `await bus.emit("e", 1)`: `h(1)` still runs; with a plain function it is cancelled.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def _settle(result: Any) -> Any:
    return _awaited(result) if inspect.isawaitable(result) else None


def _function_listener(bus: EventBus, event: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    fired = False

    @functools.wraps(fn)
    def listener(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, listener)
        return _settle(fn(*args, **kwargs))

    return listener


class _CallableListener:
    """For callables that are not functions (no __name__/__doc__ to copy with wraps)."""

    def __init__(self, bus: EventBus, event: str, target: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.target = target
        self.fired = False

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if self.fired:
            return None
        self.fired = True
        self.bus.off(self.event, self)
        return _settle(self.target(*args, **kwargs))


def _listener_for(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.isfunction(handler) or inspect.ismethod(handler):
        return _function_listener(bus, event, handler)
    return _CallableListener(bus, event, handler)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # refused here if bus.on refuses it

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            bus.on(event, _listener_for(bus, event, fn), priority=priority)
            return fn

        return register
    bus.on(event, _listener_for(bus, event, handler), priority=priority)
    return handler
