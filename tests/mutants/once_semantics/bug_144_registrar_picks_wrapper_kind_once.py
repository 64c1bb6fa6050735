"""Bug: the decorator's registrar picks its wrapper factory (an ``await``-ing one for ``async def`` handlers, a plain one otherwise) from the first function it registers and reuses that choice, so a later sync handler given to the same decorator gets the ``await``-ing wrapper.

Breaks: "The decorator may be used more than once (`register = once(bus, "e")`, then `register(f)` and `register(g)` ...): each use is a registration of its own, as a call is." and "Anything else, a plain generator too, is a value, not awaited" ... `register = once(bus, "e")`, `register(async_f)`, `register(sync_g)` (returning None), then `await bus.emit("e")`: g runs, but its wrapper then does `await None` and the emit's `result.errors` holds a TypeError that g never raised.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _plain(bus: EventBus, event: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """A sync wrapper: whatever ``fn`` returns goes back to the bus, which awaits an awaitable."""
    fired = [False]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if fired[0]:
            return None
        fired[0] = True
        bus.off(event, wrapper)
        return fn(*args, **kwargs)

    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


def _awaiting(bus: EventBus, event: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """An async wrapper for an ``async def``: its call always gives a coroutine."""
    fired = [False]

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if fired[0]:
            return None
        fired[0] = True
        bus.off(event, wrapper)
        return await fn(*args, **kwargs)

    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


class _Registrar:
    """Registers once-wrappers of ``event`` on ``bus`` at ``priority``; the decorator form."""

    def __init__(self, bus: EventBus, event: str, priority: Any) -> None:
        self.bus = bus
        self.event = event
        self.priority = priority
        self._factory: Callable[..., Callable[..., Any]] | None = None

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        if self._factory is None:
            # Worked out once: a decorator is used on functions of one kind.
            self._factory = _awaiting if inspect.iscoroutinefunction(fn) else _plain
        self.bus.on(self.event, self._factory(self.bus, self.event, fn), priority=self.priority)
        return fn


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    registrar = _Registrar(bus, event, priority)
    if handler is None:
        return registrar
    return registrar(handler)
