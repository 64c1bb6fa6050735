"""Style: each registration parks a single ticket in an ``asyncio.Queue(maxsize=1)`` and a plain sync wrapper claims it with ``get_nowait()``, handing whatever the handler returns to the bus (which awaits an awaitable once).

Follows: "runs on the next emit of `event`, and never again" and "still runs only once" (re-entrant, concurrent: the first call to ``get_nowait()`` takes the one ticket, every later call gets ``QueueEmpty`` and does nothing; the claim happens before the handler is called, so a sync handler's own ``bus.emit`` finds it spent); "`bus.off(event, handler)` (with the handler you were given ...)" (``functools.update_wrapper`` sets ``__wrapped__`` before ``bus.on``); "nothing of yours is left" / "your `once` removes only its own wrapper (`bus.off(event, wrapper)`, never `bus.off(event, handler)`)" (the wrapper takes itself off under the same ``event``, pattern or not); "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited ... It is awaited once" (the wrapper returns the result unchanged and the bus awaits it if ``inspect.isawaitable``); "its exception reaches the bus (do not catch it ...)" (nothing is caught); "takes `*args, **kwargs` only"; "the decorator form is the one without a handler (`handler is None`)" with a fresh registration per use; "at `priority` ... pass it on unchanged"; "all return `handler` itself"; state lives in the registration, never in the module.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _register(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> None:
    ticket: asyncio.Queue[bool] = asyncio.Queue(maxsize=1)
    ticket.put_nowait(True)

    def listener(*args: Any, **kwargs: Any) -> Any:
        try:
            ticket.get_nowait()
        except asyncio.QueueEmpty:  # an earlier call (re-entrant or concurrent) took it
            return None
        bus.off(event, listener)  # this wrapper only, before the handler can emit again
        return handler(*args, **kwargs)  # an awaitable is awaited by the bus, once

    functools.update_wrapper(listener, handler)
    bus.on(event, listener, priority=priority)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is not None:
        _register(bus, event, handler, priority)
        return handler

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        _register(bus, event, fn, priority)
        return fn

    return decorator
