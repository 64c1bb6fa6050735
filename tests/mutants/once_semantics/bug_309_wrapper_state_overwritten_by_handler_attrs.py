"""Exercise 2: once_semantics. update_wrapper runs after the wrapper's own state is set.

BUG (planted): "one with attributes of its own, whatever their names (functools.wraps
copies them onto a wrapper: keep your wrapper's own state where they cannot replace it)".
The wrapper object stores its bus, event and flag as instance attributes and then calls
functools.update_wrapper, which copies the handler's __dict__ over them. A handler tagged
with an attribute named like one of them (say handler.event = "user.created") makes the
wrapper take itself off the wrong event: it stays on the bus after it fired.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    """The listener ``once`` puts on the bus: fires the handler on its first call only."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.handler = handler
        self.fired = False
        functools.update_wrapper(self, handler)  # name, doc and __wrapped__ for bus.off

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fired:
            return None
        self.fired = True
        self.bus.off(self.event, self)
        result = self.handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return _settle(result)
        return None


async def _settle(awaitable: Any) -> None:
    await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # checks the name and the priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    if not callable(handler):
        raise TypeError(f"once needs a callable handler, not {handler!r}")
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
