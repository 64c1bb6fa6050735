"""Style: a dataclass (eq=False, so identity equality and hashing) whose instance is the listener, with an async call method whose self is positional-only.

Why it is correct: each once call makes a new instance, registered with bus.on at the given priority (unchanged), carrying __wrapped__ set to the handler so bus.off(event, handler) finds it; on the first call it sets its flag and removes only itself before calling the handler, so snapshots held by re-entrant or concurrent emits find it spent; the self parameter is positional-only, so emit keywords of any name (self, event, handler) reach the handler untouched; whatever the handler returns that is awaitable is awaited, and exceptions propagate unchanged to the bus; the handler itself is returned in every call form.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventBus, EventPriority


@dataclass(eq=False)
class _Once:
    bus: EventBus
    event: str
    handler: Callable[..., Any]
    spent: bool = False

    def __post_init__(self) -> None:
        self.__wrapped__ = self.handler

    async def __call__(self, /, *args: Any, **kwargs: Any) -> None:
        if self.spent:
            return
        self.spent = True
        self.bus.off(self.event, self)
        result = self.handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register
    bus.on(event, _Once(bus, event, handler), priority=priority)
    return handler
