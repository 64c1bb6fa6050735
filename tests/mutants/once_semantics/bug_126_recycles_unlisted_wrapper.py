"""Bug: to avoid a new wrapper per call, each bus caches the last wrapper of every (event, handler) and, when the handler is given again and that wrapper is no longer listed on the bus, re-arms and re-registers the same object, which an emit already running may still hold in its snapshot.

Breaks: "`once(bus, event, handler)` called by a listener (or by the handler itself) while an emit of `event` runs counts from the next emit, like any `bus.on` then (snapshot)." and "a handler given again after it was cancelled fires again (once)." ... an async handler that calls `once(bus, "e", itself)` runs twice under `asyncio.gather(bus.emit("e", 1), bus.emit("e", 2))`; and a HIGH listener doing `bus.off("e", a); once(bus, "e", a)` in emit 1 gets `a` run in emit 1 but never in emit 2.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Once:
    """A reusable once-wrapper: armed, fires, disarms; ``rearm`` makes it usable again."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus, self.event, self.handler = bus, event, handler
        self.__wrapped__ = handler
        self.armed = True

    def rearm(self) -> None:
        self.armed = True

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.armed:
            return None
        self.armed = False
        self.bus.off(self.event, self)
        result = self.handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return await result
        return result


def _cache(bus: EventBus) -> dict[tuple[str, Any], _Once]:
    """The wrappers of this bus, kept on the bus itself (nothing in the module)."""
    cache: dict[tuple[str, Any], _Once] | None = getattr(bus, "_once_wrappers", None)
    if cache is None:
        cache = {}
        bus._once_wrappers = cache  # type: ignore[attr-defined]
    return cache


def _listed(bus: EventBus, event: str, wrapper: _Once) -> bool:
    return any(listener is wrapper for listener in bus.listeners(event))


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
    cache = _cache(bus)
    try:
        key: tuple[str, Any] | None = (event, handler)
        wrapper = cache.get(key)  # type: ignore[arg-type]
    except TypeError:  # a handler without a hash: no reuse
        key, wrapper = None, None
    if wrapper is not None and not _listed(bus, event, wrapper):
        wrapper.rearm()  # off the bus (fired or cancelled): reuse it
    else:
        wrapper = _Once(bus, event, handler)
        if key is not None:
            cache[key] = wrapper
    bus.on(event, wrapper, priority=priority)
    return handler
