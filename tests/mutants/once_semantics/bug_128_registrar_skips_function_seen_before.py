"""Bug: the registrar returned by ``once(bus, event)`` remembers every function it decorated and ignores one it has seen before (meant to stop a decorator stacked twice), so a registrar reused for the same function after it fired registers nothing.

Breaks: "The decorator may be used more than once (`register = once(bus, "e")`, then `register(f)` and `register(g)`, or `register(f)` again): each use is a registration of its own, as a call is." ... `register = once(bus, "e"); register(f); await bus.emit("e", 1); register(f); await bus.emit("e", 2)` calls `f(1)` only; `f(2)` never happens (and `register(f); register(f)` fires `f` once instead of twice).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _register(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> None:
    fired = False

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        outcome = handler(*args, **kwargs)
        return (await outcome) if inspect.isawaitable(outcome) else outcome

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)


class _Registrar:
    """What ``@once(bus, event)`` returns: registers each function it decorates."""

    def __init__(self, bus: EventBus, event: str, priority: Any) -> None:
        self.bus, self.event, self.priority = bus, event, priority
        self.decorated: list[Any] = []  # by identity: handlers need not be hashable

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        if not any(seen is fn for seen in self.decorated):  # the same decorator stacked twice
            self.decorated.append(fn)
            _register(self.bus, self.event, fn, self.priority)
        return fn


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return _Registrar(bus, event, priority)
    _register(bus, event, handler, priority)
    return handler
