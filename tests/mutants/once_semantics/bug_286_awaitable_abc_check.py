"""Exercise 2: once_semantics. An ``async def`` closure wrapper that awaits what the handler returns.

BUG (planted): "whatever the handler returns that is awaitable (`inspect.isawaitable`) is
awaited: ... or a generator-based coroutine (`@types.coroutine`)" (rule 9). The tidy-up
dropped the ``inspect`` import and wrote the test as
``isinstance(result, collections.abc.Awaitable)``, which reads the same and passes for
coroutines, Tasks, Futures and ``__await__`` objects. A generator-based coroutine is a
plain generator to that ABC, so it is returned as a value and its body never runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from day25 import EventBus, EventPriority


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

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorate
    if not callable(handler):
        raise TypeError(f"a handler must be callable, not {handler!r}")
    state = {"fired": False}

    async def listener(*args: Any, **kwargs: Any) -> Any:
        if state["fired"]:
            return None
        state["fired"] = True
        bus.off(event, listener)
        result = handler(*args, **kwargs)
        if isinstance(result, Awaitable):
            return await result
        return result

    listener.__wrapped__ = handler  # type: ignore[attr-defined]  # so bus.off(event, handler) finds it
    bus.on(event, listener, priority=priority)
    return handler
