"""Bug: priority names are turned into ``EventPriority`` members with ``getattr(EventPriority, name.upper(), EventPriority.MEDIUM)``, so a name the bus does not know is silently registered at MEDIUM instead of being refused.

Breaks: "A priority is anything `bus.on` takes: ... a level name such as `"high"` ...; pass it on unchanged" and "What `bus.on` refuses, `once` refuses too" ... `once(bus, "e", h, priority="urgent")` (a typo, or `"hgih"`) returns `h` and registers it at MEDIUM, where `bus.on("e", h, priority="urgent")` raises `ValueError`; the next emit runs `h`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _level(priority: Any) -> Any:
    """The bus's level for a name ("high", "Normal"); anything else as it is."""
    if isinstance(priority, str):
        return getattr(EventPriority, priority.strip().upper(), EventPriority.MEDIUM)
    return priority


def _fire(slot: list[bool], bus: EventBus, event: str, handler: Callable[..., Any],
          me: list[Any], /, *args: Any, **kwargs: Any) -> Any:
    if not slot:
        return None
    slot.pop()
    bus.off(event, me[0])
    return handler(*args, **kwargs)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return lambda fn: once(bus, event, fn, priority=priority)
    if not callable(handler):
        raise TypeError(f"a listener must be callable, not {handler!r}")
    me: list[Any] = []
    listener = functools.partial(_fire, [True], bus, event, handler, me)
    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    me.append(listener)
    bus.on(event, listener, priority=_level(priority))
    return handler
