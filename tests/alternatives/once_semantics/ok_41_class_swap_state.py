"""Style: the wrapper is an object whose class is its state: it is born an ``_Armed`` and turns itself into a ``_Spent`` (``self.__class__ = _Spent``) the moment it is called.

Follows: "Exactly once" and "Re-entrant emits" / "Concurrent emits": the class swap is
the first thing ``_Armed.__call__`` does, before anything can emit, and a ``_Spent``
does nothing when an emit that holds it in its snapshot calls it; "It fired when it
was called: its listener is off the bus from then on": the swap is followed at once by
``bus.off(event, self)`` (its own registration only, never ``bus.off(event, handler)``,
so "A permanent listener survives" and "The same handler given twice" hold), before
the handler runs; "Cancelling": ``functools.update_wrapper`` sets ``__wrapped__`` to
the handler, which is what ``bus.off(event, handler)`` looks for; "Arguments":
``__call__(self, /, *args, **kwargs)`` hands on exactly the emit's arguments;
"Sync and async handlers": ``__call__`` returns what the handler returned, and the
bus awaits it (once) if ``inspect.isawaitable`` says so; "A handler that raises":
nothing is caught, the exception goes to the bus as it is; "Decorator or call":
``handler is None`` picks the decorator, and each use of it calls ``once`` anew;
"Priority": ``priority`` goes to ``bus.on`` unchanged, so what ``bus.on`` refuses
(``True``) raises there, before anything is registered; a handler that is not
callable is refused with ``TypeError`` as ``bus.on`` would.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Armed:
    """A registration that has not fired yet."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        functools.update_wrapper(self, handler)  # first: its __dict__ must not hide ours
        self._once_bus = bus
        self._once_event = event
        self._once_handler = handler

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        self.__class__ = _Spent  # fired: every later call, from any snapshot, is a no-op
        self._once_bus.off(self._once_event, self)
        return self._once_handler(*args, **kwargs)  # the bus awaits it if awaitable


class _Spent(_Armed):
    """A registration that fired (or is being fired)."""

    def __call__(self, /, *args: Any, **kwargs: Any) -> None:
        return None


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
    bus.on(event, _Armed(bus, event, handler), priority=priority)
    return handler
