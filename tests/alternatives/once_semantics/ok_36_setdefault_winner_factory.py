"""Style: a small factory builds each registration's ``async def`` listener; every call brings a fresh token and ``dict.setdefault("winner", token)`` decides, in one step, which single call gets to run the handler.

Follows: "runs on the next emit of `event`, and never again" and "still runs only once" (the first call's token becomes the winner before any ``await`` or handler call; every later call, re-entrant or concurrent, sees another winner and returns); "given while an emit runs, it counts from the next emit" and "the same handler given twice fires twice" (one claims dict per registration); "`bus.off(event, handler)` ... cancels" (``__wrapped__`` is set before ``bus.on``); "your `once` removes only its own wrapper (`bus.off(event, wrapper)`, never `bus.off(event, handler)`)" under the ``event`` it was registered with; "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited ... once ... what that gives back is a value"; "its own exception ... reaches the bus" (no ``try``); "takes `*args, **kwargs` only"; "`handler is None`" selects the decorator, which registers anew on every use; "at `priority` ... pass it on unchanged"; "returns `handler` itself".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _listener_for(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    claims: dict[str, object] = {}

    async def listener(*args: Any, **kwargs: Any) -> Any:
        token = object()
        if claims.setdefault("winner", token) is not token:
            return None
        bus.off(event, listener)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    return listener


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        bus.on(event, _listener_for(bus, event, fn), priority=priority)
        return fn

    return register if handler is None else register(handler)
