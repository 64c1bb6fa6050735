"""Style: an ``async def`` wrapper made by a small factory, whose claim is deleting one of its own attributes (``del wrapper.once_armed``): only the first deletion succeeds, every later one raises ``AttributeError``.

Follows: "Exactly once" / "Re-entrant emits" / "Concurrent emits": the deletion runs
in the first step of the wrapper's coroutine, with no ``await`` before it, so of all
the emits that hold the wrapper in their snapshot only the first to call it gets the
attribute; "It fired when it was called: its listener is off the bus from then on":
``bus.off(event, wrapper)`` comes right after the claim, before the handler is called
(the wrapper only, never ``bus.off(event, handler)``: "A permanent listener survives",
"The same handler given twice"); "Cancelling": ``functools.wraps`` sets
``__wrapped__`` to the handler; "Arguments": the wrapper takes ``*args, **kwargs``
only; "Sync and async handlers": what the handler returns is awaited exactly once when
``inspect.isawaitable`` says so, and its result is not looked at again; "A handler
that raises": no ``try`` around the call, its own exception leaves the wrapper as it
is; "once called it has run, even if the emit is cancelled": the claim and the ``off``
happen before the handler runs, so a cancelled await leaves nothing to undo;
"Decorator or call": ``handler is None`` gives a registrar that calls ``once`` for each
use; "Priority": passed to ``bus.on`` unchanged (``True`` raises there, registering
nothing); a handler that is not callable is refused with ``TypeError``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _make_wrapper(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            del wrapper.once_armed
        except AttributeError:
            return  # claimed already, by an emit that held it in its snapshot too
        bus.off(event, wrapper)
        outcome = handler(*args, **kwargs)
        if inspect.isawaitable(outcome):
            await outcome

    wrapper.once_armed = True  # after wraps: the handler's __dict__ cannot overwrite it
    return wrapper


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register
    if not callable(handler):
        raise TypeError(f"a listener must be callable, not {handler!r}")
    bus.on(event, _make_wrapper(bus, event, handler), priority=priority)
    return handler
