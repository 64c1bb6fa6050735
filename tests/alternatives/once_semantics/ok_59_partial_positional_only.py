"""
CORRECT (alternative design): the listener is a functools.partial of one module-level
coroutine function whose own parameters are positional-only (`state, bus, event, handler, /`),
so no keyword of the emit (`event=`, `bus=`, `handler=`) can collide with them. The per-
registration state is a fresh dict bound into the partial (never module state, never a
handler attribute); `__wrapped__` is set on the partial so `bus.off(event, handler)` finds it.
The flag is set and the listener removed before the handler is called; its result is awaited
once when awaitable. Priority is passed to bus.on unchanged, in both call forms.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _fire_once(state: dict, bus: EventBus, event: str, handler: Callable[..., Any], /,
                     *args: Any, **kwargs: Any) -> None:
    if state["fired"]:
        return
    state["fired"] = True
    bus.off(event, state["listener"])
    got = handler(*args, **kwargs)
    if inspect.isawaitable(got):
        await got


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return lambda fn: once(bus, event, fn, priority=priority)
    state: dict[str, Any] = {"fired": False}
    listener = functools.partial(_fire_once, state, bus, event, handler)
    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    state["listener"] = listener
    bus.on(event, listener, priority=priority)
    return handler
