"""Exercise 2: once_semantics. A decorator object that builds one listener per use and keeps it on itself.

BUG (planted): "The decorator may be used more than once (``register = once(bus, "e")``,
then ``register(f)`` and ``register(g)``, ...): each use is a registration of its own, as
a call is." together with "after it fired, the bus holds no listener of yours for
`event`". Each use gets its own flag, but the listener takes itself off through
``self._listener``, an attribute of the decorator that the next use overwrites: after
``register(f)`` and ``register(g)``, ``f``'s listener removes ``g``'s and its own is left on
the bus for good. A student keeps "the current listener" on the decorator object for
convenience, and with ``@once(bus, "e")`` used once (the common case) it is right.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceDecorator:
    """``once(bus, event)``: each call registers ``fn`` for the next ``event`` only."""

    def __init__(self, bus: EventBus, event: str, priority: Any) -> None:
        bus.on(event, priority=priority)  # bus.on's own checks (TypeError / ValueError)
        self._bus = bus
        self._event = event
        self._priority = priority
        self._listener: Callable[..., Any] | None = None

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        fired = False

        def listener(*args: Any, **kwargs: Any) -> Any:
            nonlocal fired
            if fired:
                return None
            fired = True
            self._bus.off(self._event, self._listener)
            return fn(*args, **kwargs)

        listener.__wrapped__ = fn  # type: ignore[attr-defined]
        self._listener = listener
        self._bus.on(self._event, listener, priority=self._priority)
        return fn


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    decorator = _OnceDecorator(bus, event, priority)
    return decorator if handler is None else decorator(handler)
