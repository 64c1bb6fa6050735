"""Style: a one-item iterator is the "ticket": the first call that draws it with ``next(ticket, SPENT)`` runs the handler, every later draw gets the sentinel; a sync wrapper hands any awaitable back for the bus to await.

Follows: "**Exactly once**" and "**Re-entrant emits**" / "**Concurrent emits**": drawing from the iterator happens before anything else (no await in between), so a nested or concurrent emit that still holds the wrapper in its snapshot draws ``SPENT`` and does nothing; "**Nothing left behind**": the wrapper takes itself off with ``bus.off(event, wrapper)`` before calling the handler, never ``bus.off(event, handler)`` ("**A permanent listener survives**"); "**Cancelling**": ``functools.wraps`` sets ``__wrapped__``, so ``bus.off(event, handler)`` (or an equal bound method) finds the wrapper, and an emit that already holds it still runs it once; "**The same handler given twice**": every call of ``once`` makes its own ticket and wrapper; "**Decorator or call**": the decorator form is chosen by ``handler is None`` only, so falsy and unhashable handlers are registered, and ``handler`` itself is returned; "**Priority**": ``priority`` goes to ``bus.on`` unchanged in every form; "**Arguments**": the wrapper takes ``*args, **kwargs`` only and passes them on untouched; "**Sync and async handlers**": whatever the handler returns is returned to the bus, which awaits it once when ``inspect.isawaitable`` says so (Tasks, done Futures, ``__await__`` objects, generator-based coroutines); "**A handler that raises**": nothing is caught, and the ticket is already drawn; "**Given while an emit runs**": a plain ``bus.on``, so the running emit's snapshot does not see it; "**Only `on` and `off`**".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_SPENT = object()


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

    ticket = iter((handler,))

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        fn = next(ticket, _SPENT)
        if fn is _SPENT:
            return None
        bus.off(event, wrapper)
        return fn(*args, **kwargs)  # an awaitable result is awaited by the bus, once

    bus.on(event, wrapper, priority=priority)
    return handler
