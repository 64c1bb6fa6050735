"""Exercise 2: once_semantics. The handler's result is awaited only if it is a collections.abc.Awaitable, so a generator-based coroutine is dropped.

BUG (planted): "whatever the handler returns that is awaitable (`inspect.isawaitable`)
is awaited: ... or a generator-based coroutine (`@types.coroutine`)". The wrapper tests
isinstance(result, Awaitable), which a @types.coroutine generator is not (it has no
__await__): the emit returns at once and the handler's body never runs.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # checks the name and the priority, registers nothing

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register
    if not callable(handler):
        raise TypeError(f"a handler must be callable, not {handler!r}")

    fired = False

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if isinstance(result, Awaitable):
            return await result
        return result

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]  # bus.off(event, handler) finds it
    bus.on(event, wrapper, priority=priority)
    return handler
