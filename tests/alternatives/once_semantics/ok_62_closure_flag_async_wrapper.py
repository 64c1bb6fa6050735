"""Exercise 2: once_semantics. Build ``once`` on top of an EventBus's ``on`` and ``off``.

A one-shot listener built from a closure:

* the wrapper is registered with ``bus.on`` at the given priority (passed on unchanged);
* ``functools.wraps`` sets ``__wrapped__``, so ``bus.off(event, handler)`` finds it;
* a ``fired`` flag lives in the closure (never on the wrapper, where the handler's
  own attributes are copied by ``functools.wraps``), because an emit works on a
  snapshot taken when it started and may still call the wrapper after it left the bus;
* on its first call the wrapper marks itself fired, takes *itself* (never the
  handler) off the bus, then calls the handler and awaits what it returns once,
  if that is awaitable. The handler's exceptions are not caught.
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
        # Decorator form. Let the bus validate the event name and the priority now
        # (it raises exactly what `bus.on` raises); its own decorator is discarded,
        # so nothing is registered until the returned decorator is applied.
        bus.on(event, priority=priority)

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            # every use is a registration of its own
            return once(bus, event, fn, priority=priority)

        return register

    if not callable(handler):
        raise TypeError(f"once() needs a callable handler, not {handler!r}")

    fired = False  # closure state: functools.wraps cannot overwrite it

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            # an emit that snapshotted us before we fired (re-entrant or concurrent)
            return
        fired = True
        bus.off(event, wrapper)  # only ourselves, never a permanent bus.on(handler)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result  # once: what it gives back is a value

    bus.on(event, wrapper, priority=priority)
    return handler
