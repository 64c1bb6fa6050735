"""Correct, advanced-Python style (written 2026-11-30 for the review's false-positive count, checked by `day25 check`, 25/25 from the hidden suites before it was kept): once_semantics with a callable dataclass as the wrapper (``__wrapped__`` is a field).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventBus, EventPriority


@dataclass(eq=False, slots=True)
class OnceListener:
    """The bus's listener: fires ``__wrapped__`` once, taking itself off first.

    ``eq=False`` keeps identity equality and hashing, so ``bus.off(event, self)``
    removes this wrapper only and never an equal-looking one.
    """

    bus: EventBus
    event: str
    __wrapped__: Callable[..., Any]
    fired: bool = field(default=False, init=False)

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self.fired:  # an emit that took its snapshot earlier can still reach us
            return
        self.fired = True
        self.bus.off(self.event, self)
        result = self.__wrapped__(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    def __repr__(self) -> str:
        state = "fired" if self.fired else "pending"
        return f"<once {self.event!r} {self.__wrapped__!r} ({state})>"


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)
        return decorate
    bus.on(event, OnceListener(bus, event, handler), priority=priority)
    return handler
