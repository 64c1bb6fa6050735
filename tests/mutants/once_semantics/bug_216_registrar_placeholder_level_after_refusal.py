"""Bug: registrar_placeholder_level_after_refusal.
Breaks rule 7: "What bus.on refuses, once refuses too ... in every call form, the decorator
too (not silently registered at some default level, nor dropped)". The registrar works out
its level on first use, storing MEDIUM as a placeholder before the check; when the check
refuses (priority=True, "urgent") the placeholder stays, so the first register(f) raises
as it should but a second use of that registrar registers silently at MEDIUM.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority, coerce_priority


class _OnceListener:
    """One registration: armed until its first call, then spent for good."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        # only __wrapped__ is taken from the handler (bus.off(event, handler) finds us by
        # it); nothing of the handler's own __dict__ is copied over our state
        self.__wrapped__ = handler
        self._bus = bus
        self._event = event
        self._armed = True

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if not self._armed:
            # an emit that took its snapshot before we left the bus: nothing to do
            return
        self._armed = False
        self._bus.off(self._event, self)  # leave before the handler can emit again
        result = self.__wrapped__(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    def __repr__(self) -> str:
        state = "armed" if self._armed else "spent"
        return f"<once {self._event!r} {self.__wrapped__!r} {state}>"


class _Registrar:
    """What ``once(bus, event)`` returns: every use registers its function anew."""

    def __init__(self, bus: EventBus, event: str, priority: Any) -> None:
        self._bus = bus
        self._event = event
        self._priority = priority
        self._level: int | None = None  # worked out on first use, then reused

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        if self._level is None:
            self._level = EventPriority.MEDIUM  # the default until the priority is checked
            self._level = coerce_priority(self._priority)  # refuses what bus.on refuses
        return once(self._bus, self._event, fn, priority=self._level)


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
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
