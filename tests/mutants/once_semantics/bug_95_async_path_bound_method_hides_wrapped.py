"""Bug: for `async def` handlers the registered listener is a bound method (`state.acall`), and a bound method does not show the instance's `__wrapped__`, so bus.off(event, handler) cannot cancel an async handler.

Breaks: "Cancelling: `bus.off(event, handler)` (with the handler you were given ...) before
the event is emitted means it never runs. It cancels on that event only, and a handler given
again after it was cancelled fires again (once)." Attribute lookups on a bound method go to
its function, not to the instance that `functools.update_wrapper` wrote `__wrapped__` on, so
the bus files the async registration under the bound method only.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Once:
    """One registration: fires ``handler`` the first time the bus calls it."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        functools.update_wrapper(self, handler)  # sets self.__wrapped__ = handler
        self.bus = bus
        self.event = event
        self.handler = handler
        self.fired = False
        # An async handler gets an async listener, so the bus treats it as one.
        self.listener: Callable[..., Any] = (
            self.acall if inspect.iscoroutinefunction(handler) else self
        )

    def _claim(self) -> bool:
        """True for the first caller only; takes this registration off the bus."""
        if self.fired:
            return False
        self.fired = True
        self.bus.off(self.event, self.listener)
        return True

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if not self._claim():
            return None
        return self.handler(*args, **kwargs)  # an awaitable goes back to the bus

    async def acall(self, /, *args: Any, **kwargs: Any) -> Any:
        if not self._claim():
            return None
        result = self.handler(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return functools.partial(once, bus, event, priority=priority)
    bus.on(event, _Once(bus, event, handler).listener, priority=priority)
    return handler
