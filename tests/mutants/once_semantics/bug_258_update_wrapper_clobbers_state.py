"""Exercise 2: once_semantics. Build ``once`` on top of an EventBus's ``on`` and ``off``.

BUG (rule 6): "one with attributes of its own, whatever their names
(``functools.wraps`` copies them onto a wrapper: keep your wrapper's own state where
they cannot replace it)". ``_OnceListener`` sets its state (``_fired``, ``_bus``,
``_event``...) first and calls ``functools.update_wrapper`` last, so a handler that
carries an attribute of the same name (``h._fired = True``) overwrites the wrapper's
state: it never fires, or takes the wrong bus/event off. An assistant writes it this
way because "update_wrapper goes last so the wrapper looks exactly like the handler".
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    """An async listener that forwards the first call to ``handler`` and no other."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus = bus
        self._event = event
        self._handler = handler
        self._fired = False
        # Make the listener look like the handler (name, docstring, __wrapped__),
        # so logs read well and bus.off(event, handler) finds it.
        functools.update_wrapper(self, handler)

    async def __call__(self, /, *args: Any, **kwargs: Any) -> None:
        if self._fired:
            return  # an emit that snapshotted us before we fired
        self._fired = True
        self._bus.off(self._event, self)  # only ourselves, never the handler
        result = self._handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # validates the name and the priority now

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    if not callable(handler):
        raise TypeError(f"handler must be callable, got {type(handler).__name__}")
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
