"""Bug: the one-shot ticket is ``next()`` of an iterator and the whole claim-and-call sits in ``try: ... except StopIteration``, so a handler that itself raises ``StopIteration`` has its error swallowed as if the ticket were gone.

Breaks: "**A handler that raises** counts as fired (it never runs again), and its exception reaches the bus (do not catch it, do not wrap it in another): the bus goes on with the other listeners and returns that very exception in the emit's result" ... a sync handler `def h(x): raise StopIteration` given with `once(bus, "e", h)`: `await bus.emit("e", 1)` returns a result with no errors instead of one holding that `StopIteration`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OneShot:
    """A listener holding a single ticket; whoever takes it runs the handler."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        functools.update_wrapper(self, handler)
        self._bus = bus
        self._event = event
        self._handler = handler
        self._tickets = iter((object(),))

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        try:
            next(self._tickets)
            self._bus.off(self._event, self)
            return self._handler(*args, **kwargs)
        except StopIteration:
            return None  # no ticket left: an emit that still had us in its snapshot


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
    bus.on(event, _OneShot(bus, event, handler), priority=priority)
    return handler
