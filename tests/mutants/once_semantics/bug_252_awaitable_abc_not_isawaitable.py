"""Bug: the async wrapper awaits the handler's result only when `isinstance(result, collections.abc.Awaitable)`, not when `inspect.isawaitable(result)`: a generator-based coroutine (`@types.coroutine`) is awaitable but no instance of the `Awaitable` ABC, so it is returned unawaited and its body never runs.

Breaks: "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited: ... or a generator-based coroutine (`@types.coroutine`)" ... `@types.coroutine def h(x): seen.append(x); yield`; `once(bus, "e", h); await bus.emit("e", 1)` leaves `seen` empty (the generator is returned as a value, never run, and an error it would raise never reaches `result.errors`).
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
        bus.on(event, priority=priority)  # validates event and priority, registers nothing
        return lambda fn: once(bus, event, fn, priority=priority)

    state = {"fired": False}

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if state["fired"]:  # a re-entrant or concurrent emit still holding us
            return None
        state["fired"] = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if isinstance(result, Awaitable):  # coroutines, tasks, futures, __await__ objects
            return await result
        return result

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]  # bus.off(event, handler)
    bus.on(event, wrapper, priority=priority)
    return handler
