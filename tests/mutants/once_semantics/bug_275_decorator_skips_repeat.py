"""Exercise 2: once_semantics. A ``_OnceDecorator`` object for the decorator form, a closure per registration.

BUG (planted): the page says "The decorator may be used more than once
(`register = once(bus, "e")`, then `register(f)` and `register(g)`, or `register(f)`
again): each use is a registration of its own, as a call is." This version's
decorator object remembers the handlers it has already decorated and returns early
when it sees one again (``if fn in self._done``), the guard a student adds against a
function being decorated twice by mistake; so ``register(f)`` used twice registers
``f`` once, and it runs once on the next emit instead of twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _register(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> None:
    state = {"fired": False}

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if state["fired"]:
            return None
        state["fired"] = True
        bus.off(event, wrapper)
        return handler(*args, **kwargs)

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)


class _OnceDecorator:
    """What ``once(bus, event)`` returns: registers each function it decorates."""

    def __init__(self, bus: EventBus, event: str, priority: Any) -> None:
        bus.on(event, priority=priority)  # let the bus refuse a bad event or priority now
        self._bus = bus
        self._event = event
        self._priority = priority
        self._done: list[Callable[..., Any]] = []

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        if fn in self._done:  # already registered by this decorator
            return fn
        if not callable(fn):
            raise TypeError(f"cannot register {fn!r}: not callable")
        _register(self._bus, self._event, fn, self._priority)
        self._done.append(fn)
        return fn


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return _OnceDecorator(bus, event, priority)
    if not callable(handler):
        raise TypeError(f"cannot register {handler!r}: not callable")
    _register(bus, event, handler, priority)
    return handler
