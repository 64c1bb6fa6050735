"""Exercise 2: once_semantics.

The wrapper is an instance of a small class, ``_OnceListener``, with ``__slots__``: its
``__wrapped__`` slot is how ``bus.off(event, handler)`` finds it, and its ``spent`` slot
is the flag that makes a listener held in an older snapshot (a re-entrant or concurrent
emit) do nothing. Nothing of the handler is copied onto it, so the handler's own
attributes cannot clash with its state. The first call marks it spent, takes exactly this
instance off the bus and then calls the handler; an awaitable result comes back to the bus
inside a coroutine that awaits it exactly once. The decorator form checks its event and
priority with ``bus.on(event, priority=...)`` (which registers nothing) and registers anew
on every use.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    """A listener that calls ``__wrapped__`` on its first call only, leaving the bus first."""

    __slots__ = ("__wrapped__", "bus", "event", "spent")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.__wrapped__ = handler
        self.bus = bus
        self.event = event
        self.spent = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.spent:
            return None
        self.spent = True
        self.bus.off(self.event, self)
        outcome = self.__wrapped__(*args, **kwargs)
        if inspect.isawaitable(outcome):
            return _await_once(outcome)
        return None

    def __repr__(self) -> str:
        return f"<once {self.event!r}: {self.__wrapped__!r}>"


async def _await_once(awaitable: Any) -> None:
    await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is not None:
        bus.on(event, _OnceListener(bus, event, handler), priority=priority)
        return handler
    bus.on(event, priority=priority)  # what bus.on refuses, raise now; registers nothing

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        bus.on(event, _OnceListener(bus, event, fn), priority=priority)
        return fn

    return register
