"""Exercise 2: once_semantics.

An ``async def`` wrapper made by ``functools.wraps`` (so ``bus.off(event, handler)`` finds
it by ``__wrapped__``), whose flag lives in a one-item list of the closure, out of reach of
the attributes ``wraps`` copies from the handler. Being async, it makes every emit that
holds it lazy, which the page leaves open; it claims its turn before its first await, so
re-entrant and concurrent emits holding it in their snapshot find it spent. The decorator
form is a ``functools.partial`` of ``once`` itself, after ``bus.on(event, priority=...)``
has vetted the event and priority without registering anything.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _arm(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    state = [False]  # fired?

    @functools.wraps(handler)
    async def listener(*args: Any, **kwargs: Any) -> None:
        if state[0]:
            return
        state[0] = True
        bus.off(event, listener)
        value = handler(*args, **kwargs)
        if inspect.isawaitable(value):
            await value

    return listener


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)
        return functools.partial(once, bus, event, priority=priority)
    bus.on(event, _arm(bus, event, handler), priority=priority)
    return handler
