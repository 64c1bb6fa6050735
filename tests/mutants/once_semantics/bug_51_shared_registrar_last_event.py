"""Bug: one module-level registrar object keeps the bus and event of the LAST once() call, so a wrapper removes itself from the wrong event or bus.

Breaks: "**Nothing left behind**: after it fired, the bus holds no listener of yours for
`event` (`len(bus.listeners(event))` is back where it was)."
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceRegistrar:
    """Registers one-shot wrappers; remembers where it registered."""

    def __init__(self) -> None:
        self.bus: EventBus | None = None
        self.event: str | None = None

    def register(
        self, bus: EventBus, event: str, handler: Callable[..., Any], priority: Any
    ) -> Callable[..., Any]:
        self.bus = bus
        self.event = event
        fired = [False]

        @functools.wraps(handler)
        async def listener(*args: Any, **kwargs: Any) -> None:
            if fired[0]:
                return
            fired[0] = True
            assert self.bus is not None and self.event is not None
            self.bus.off(self.event, listener)
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result

        bus.on(event, listener, priority=priority)
        return handler


_registrar = _OnceRegistrar()


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return lambda fn: _registrar.register(bus, event, fn, priority)
    return _registrar.register(bus, event, handler, priority)
