"""Correct, class style: each registration is an instance of a small listener class with an async __call__, its own fired flag and a __wrapped__ attribute pointing at the handler.

Why it is correct: the bus finds the instance through __wrapped__ for bus.off(event, handler) (equal bound methods hash and compare equal); the instance is hashed by identity, so bus.off(event, self) removes only this registration; the flag is checked and set with no await in between, before the listener takes itself off and only then calls the handler with exactly the emit's arguments, awaiting anything awaitable; exceptions are not caught; every call form registers at the given priority, passed to bus.on unchanged, and returns the handler.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class OnceListener:
    """One once-registration of ``handler`` on ``event``."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self._fired = False
        self.__wrapped__ = handler

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self._fired:
            return
        self._fired = True
        self._bus.off(self._event, self)
        result = self.__wrapped__(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    def __repr__(self) -> str:
        return f"OnceListener({self.__wrapped__!r} on {self._event!r})"


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    bus.on(event, OnceListener(bus, event, handler), priority=priority)
    return handler
