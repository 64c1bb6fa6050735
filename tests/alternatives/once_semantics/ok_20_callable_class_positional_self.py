"""Style: each registration is an instance of a small class with an async __call__ whose self is positional-only.

Why it is correct: the instance is the listener; its __call__ takes self positional-only
plus star-args and star-star-kwargs, so an emit keyword named self or event reaches the
handler; a per-instance state field (an enum) is switched to FIRED before anything else,
so re-entrant and concurrent emits that still hold the instance in their snapshot skip it;
it removes only itself with bus.off(event, self) before calling the handler (nothing left,
a permanent bus.on of the handler stays); the instance attribute __wrapped__ lets
bus.off(event, handler) cancel it, and identity equality keeps sibling registrations of the
same handler apart; the handler's result is awaited once when inspect.isawaitable says so;
exceptions pass through untouched; priority goes to bus.on unchanged; the decorator form is
only for handler is None; once returns the handler itself.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _State(enum.Enum):
    WAITING = "waiting"
    FIRED = "fired"


class _OnceListener:
    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self._handler = handler
        self._state = _State.WAITING
        self.__wrapped__ = handler

    async def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if self._state is _State.FIRED:
            return None
        self._state = _State.FIRED
        self._bus.off(self._event, self)
        result = self._handler(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    def __repr__(self) -> str:
        return f"<once {self._handler!r} on {self._event!r}: {self._state.value}>"


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        bus.on(event, _OnceListener(bus, event, fn), priority=priority)
        return fn

    if handler is None:
        return register
    return register(handler)
