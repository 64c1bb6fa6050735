"""Bug: the decorator keeps its options in a dict and takes the priority out with ``pop`` instead of ``get``, so only its first use registers at the given priority; every later use of the same decorator registers at ``MEDIUM``.

Breaks: "The decorator may be used more than once (`register = once(bus, "e")`, then `register(f)` and `register(g)`, or `register(f)` again): each use is a registration of its own, as a call is." and "the handler runs at `priority` among the event's other listeners, in every call form (`@once(bus, "e", priority=EventPriority.HIGH)` too)" ... `bus.on("e", mid)`, `register = once(bus, "e", priority=EventPriority.HIGH)`, `register(f)`, `register(g)`: the emit calls `f`, `mid`, `g` instead of `f`, `g`, `mid`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _arm(bus: EventBus, event: str, handler: Callable[..., Any], **options: Any) -> None:
    claimed: list[bool] = []

    def listener(*args: Any, **kwargs: Any) -> Any:
        if claimed:
            return None
        claimed.append(True)
        bus.off(event, listener)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return _await(result)
        return None

    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, listener, **options)


async def _await(awaitable: Any) -> Any:
    return await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    options: dict[str, Any] = {"priority": priority}
    if handler is not None:
        _arm(bus, event, handler, **options)
        return handler
    bus.on(event, **options)  # a priority bus.on refuses is refused here, nothing registered

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _arm(bus, event, fn, priority=options.pop("priority", EventPriority.MEDIUM))
        return fn

    return register
