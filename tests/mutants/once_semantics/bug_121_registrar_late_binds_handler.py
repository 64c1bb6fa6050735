"""Bug: the decorator form stores the decorated function in the enclosing ``handler`` variable (``nonlocal``) and the wrapper reads that variable when it fires, so reusing one registrar makes every earlier registration call the last function decorated.

Breaks: "The decorator may be used more than once (`register = once(bus, "e")`, then `register(f)` and `register(g)`, or `register(f)` again): each use is a registration of its own, as a call is." ... `register = once(bus, "e"); register(f); register(g); await bus.emit("e", 1)` calls `g(1)` twice and never `f` (a single `@once(bus, "e")` per function works).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
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

    def register() -> None:
        fired = False

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            nonlocal fired
            if fired:  # an emit that took its snapshot before we left
                return None
            fired = True
            bus.off(event, wrapper)  # first, before anything can emit again
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                return await result
            return result

        wrapper.__wrapped__ = handler  # type: ignore[attr-defined]  # bus.off(event, handler)
        bus.on(event, wrapper, priority=priority)

    if handler is None:

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            nonlocal handler
            handler = fn
            register()
            return fn

        return decorator

    register()
    return handler
