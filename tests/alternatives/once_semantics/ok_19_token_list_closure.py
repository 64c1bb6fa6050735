"""Style: a closure holding a one-item token list; whoever pops the token first runs the handler.

Why it is correct: popping the token is the claim (a second call, from a re-entrant or
concurrent emit whose snapshot still holds the wrapper, finds the list empty and returns);
the wrapper takes only itself off the bus (bus.off(event, wrapper)) before calling the
handler, so nothing is left and a permanent bus.on of the handler stays; functools.wraps
sets __wrapped__ so bus.off(event, handler) (or an equal bound method) cancels it; the
wrapper takes only star-args and star-star-kwargs and passes them on untouched; whatever
the handler returns is awaited once when inspect.isawaitable says so; exceptions are not
caught; the decorator form is chosen only when handler is None; priority is passed on
unchanged; every call makes a fresh token and wrapper, and no module state is kept.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _register(
    bus: EventBus, event: str, handler: Callable[..., Any], priority: Any
) -> Callable[..., Any]:
    token = [object()]

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            token.pop()
        except IndexError:
            return None  # already claimed by another emit
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return await result
        return result

    functools.update_wrapper(wrapper, handler)
    bus.on(event, wrapper, priority=priority)
    return handler


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return _register(bus, event, fn, priority)
        return decorator
    return _register(bus, event, handler, priority)
