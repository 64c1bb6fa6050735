"""Bug: the default priority is EventPriority.LOW instead of MEDIUM, so a once-handler given without priority runs after later-registered MEDIUM listeners.

Breaks: "def once(bus, event, handler=None, *, priority=EventPriority.MEDIUM)" together with rule 7, "the handler runs at priority among the event's other listeners".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    """One registration: removes itself from the bus, then calls the handler once."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self._handler = handler
        self._fired = False
        self.__wrapped__ = handler  # bus.off(event, handler) finds us by this

    async def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if self._fired:
            return None
        self._fired = True
        self._bus.off(self._event, self)
        result = self._handler(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.LOW,  # once-handlers go after the regular ones by default
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return lambda fn: once(bus, event, fn, priority=priority)
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
