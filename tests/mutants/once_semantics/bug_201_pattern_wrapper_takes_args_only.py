"""Bug: for a wildcard pattern the wrapper is shaped like the lesson's wildcard listener, ``def heard(*args)``, so an emit with keyword arguments never reaches the handler.

Breaks: "the handler gets exactly the positional and keyword arguments given to `emit`, however many and whatever their names" ... `once(bus, "ui:*", h)` then `await bus.emit("ui:click", 1, k=2)`: the wrapper itself raises TypeError (unexpected keyword), `h` is never called, and the wrapper stays armed, so the next `ui:` emit calls `h` instead.

Carried over from notebooks/05_namespaces_and_wildcards.ipynb, cell 8 (``def ui_logger(*args)``
on ``"ui:*"``; the cheat sheet's ``lambda *args: ...`` on ``"ui:*"`` too): a wildcard
listener there takes positional arguments only, which is fine for the lesson's payloads.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _exact_listener(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    fired = False

    @functools.wraps(handler)
    def listener(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, listener)  # first: a re-entrant emit must not find it any more
        return handler(*args, **kwargs)

    return listener


def _pattern_listener(bus: EventBus, pattern: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    """A listener for ``ui:*`` or ``*``: it hears many events, like the lesson's ui_logger."""
    fired = False

    @functools.wraps(handler)
    def heard(*args: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(pattern, heard)  # nothing of ours left under the pattern
        return handler(*args)

    return heard


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # refuses a bad priority now, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    if isinstance(event, str) and event.endswith("*"):
        listener = _pattern_listener(bus, event, handler)
    else:
        listener = _exact_listener(bus, event, handler)
    bus.on(event, listener, priority=priority)
    return handler
