"""Bug: defaults the priority with "priority or EventPriority.MEDIUM", so LOWEST (value 0) and the int 0 silently become MEDIUM.

Breaks rule 7: "the handler runs at `priority` among the event's other listeners, in every call form ... A priority is anything `bus.on` takes: an `EventPriority` member or a plain `int` ...; pass it on unchanged."
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Once:
    """Registers one self-removing listener per call."""

    def __init__(self, bus: EventBus, event: str, priority: Any) -> None:
        self.bus = bus
        self.event = event
        self.priority = priority or EventPriority.MEDIUM

    def __call__(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        bus, event = self.bus, self.event
        done = False

        @functools.wraps(handler)
        async def listener(*args: Any, **kwargs: Any) -> None:
            nonlocal done
            if done:
                return
            done = True
            bus.off(event, listener)
            out = handler(*args, **kwargs)
            if inspect.isawaitable(out):
                await out

        bus.on(event, listener, priority=self.priority)
        return handler


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority | None = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    registrar = _Once(bus, event, priority)
    return registrar if handler is None else registrar(handler)
