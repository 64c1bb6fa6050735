"""Exercise 2: once_semantics. A decorator factory that keeps track of the handlers it has fired.

BUG (planted): "The decorator may be used more than once (``register = once(bus, "e")``,
then ``register(f)`` and ``register(g)``, or ``register(f)`` again): each use is a
registration of its own, as a call is." This version keeps the "already fired" record in
the decorator (a set of the handlers it fired, shared by every use of that decorator), not
in each registration: so ``register(f)`` again, after ``f`` fired, registers a listener
that never runs (and never leaves the bus), and ``register(f)`` twice before the emit fires
``f`` once instead of twice. A student writes it thinking of the decorator as "the once" and
the set as its memory, and the call form (a new decorator per call) works.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _decorator(bus: EventBus, event: str, priority: Any) -> Callable[[Callable[..., Any]], Any]:
    register = bus.on(event, priority=priority)  # bus.on checks the event and the priority
    fired: list[Callable[..., Any]] = []  # handlers this decorator already fired (by identity)

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        def listener(*args: Any, **kwargs: Any) -> Any:
            if any(f is fn for f in fired):
                return None
            fired.append(fn)
            bus.off(event, listener)
            return fn(*args, **kwargs)

        listener.__wrapped__ = fn  # type: ignore[attr-defined]
        register(listener)
        return fn

    return decorate


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    decorate = _decorator(bus, event, priority)
    return decorate if handler is None else decorate(handler)
