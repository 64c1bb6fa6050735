"""Bug: the wrapper treats every generator object the handler returns as a plain value, testing ``inspect.isgenerator`` before ``inspect.isawaitable``, so a generator-based coroutine (``@types.coroutine``) is never awaited.

Breaks: "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited: ... or a generator-based coroutine (`@types.coroutine`) ... Anything else, a plain generator too, is a value, not awaited" ... a handler that returns a `@types.coroutine` generator (awaitable: `inspect.isawaitable` is True) is returned as a value: its body never runs, where it should be awaited once.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _is_value(result: Any) -> bool:
    """A plain generator or an async generator is a value, never run through."""
    return inspect.isgenerator(result) or inspect.isasyncgen(result)


def _make_listener(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    state = {"fired": False}

    async def listener(*args: Any, **kwargs: Any) -> Any:
        if state["fired"]:
            return None
        state["fired"] = True
        bus.off(event, listener)
        result = handler(*args, **kwargs)
        if _is_value(result):
            return result
        if inspect.isawaitable(result):
            return await result
        return result

    return functools.wraps(handler)(listener)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)
        return lambda fn: once(bus, event, fn, priority=priority)
    bus.on(event, _make_listener(bus, event, handler), priority=priority)
    return handler
