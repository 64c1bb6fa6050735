"""Breaks: "can be cancelled with `bus.off(event, handler)` (the handler you were given, not a wrapper)".
For a ``functools.partial`` handler the code copies the metadata (and so ``__wrapped__``) from
``handler.func``, to give the listener a name; ``bus.off(event, the_partial)`` then finds nothing
and the handler still fires, while ``bus.off(event, func)`` for some other listener of the bare
function would take this once away. Plain functions and methods behave correctly.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return functools.partial(once, bus, event, priority=priority)

    tickets = [True]  # one ticket: the first call that pops it is the one that fires

    async def listener(*args: Any, **kwargs: Any) -> None:
        if not tickets:
            return
        tickets.pop()
        bus.off(event, listener)
        outcome = handler(*args, **kwargs)
        if inspect.isawaitable(outcome):
            await outcome

    # a partial has no __name__ or __doc__: take them from the function it binds
    named = handler.func if isinstance(handler, functools.partial) else handler
    functools.update_wrapper(listener, named)
    bus.on(event, listener, priority=priority)
    return handler
