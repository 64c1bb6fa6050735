"""Bug: like Node's ``events.once``, the registration also listens for ``"error"`` on the bus and gives up (takes itself off, never runs the handler) if an ``"error"`` is emitted before ``event``.

Breaks: "**Exactly once**: `handler` runs on the next emit of `event`, and never again." ... `once(bus, "e", h)`, then `await bus.emit("error", ValueError())`, then `await bus.emit("e", 1)`: `h` is never called (and while it waits, `bus.listeners("error")` holds an extra listener).
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
    if handler is None:

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    watch_errors = event != "error"
    state = {"waiting": True}

    def detach() -> None:
        state["waiting"] = False
        bus.off(event, on_event)
        if watch_errors:
            bus.off("error", on_error)

    async def on_event(*args: Any, **kwargs: Any) -> Any:
        if not state["waiting"]:
            return None
        detach()
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return await result
        return result

    def on_error(*args: Any, **kwargs: Any) -> None:
        # events.once(emitter, name) stops waiting when the emitter reports an error
        if state["waiting"]:
            detach()

    on_event.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, on_event, priority=priority)
    if watch_errors:
        bus.on("error", on_error)
    return handler
