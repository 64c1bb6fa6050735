"""Bug: tells the decorator form apart by "is the handler a function or method", so a callable object (or a partial, or a builtin method) is taken for the decorator form and never registered.

Breaks: "A handler is any callable ...: the decorator form is the one without a handler (handler is None)" and rule 9, "an object whose __call__ is async def".
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _is_handler(obj: Any) -> bool:
    return inspect.isfunction(obj) or inspect.ismethod(obj)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        state = {"fired": False}

        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            if state["fired"]:
                return None
            state["fired"] = True
            bus.off(event, wrapper)
            outcome = fn(*args, **kwargs)
            if inspect.isawaitable(outcome):
                outcome = await outcome
            return outcome

        bus.on(event, wrapper, priority=priority)
        return fn

    if not _is_handler(handler):
        return register  # @once(bus, "event") form
    return register(handler)
