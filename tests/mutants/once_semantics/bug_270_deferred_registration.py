"""Exercise 2: once_semantics. A closure wrapper that waits for the running emit to end before it registers.

BUG (planted): "`once(bus, event, handler)` called by a listener (or by the handler
itself) while an emit of `event` runs counts from the next emit, like any `bus.on` then
(snapshot). So a handler that gives itself again fires once per emit". This version, when
it is called from inside a listener, does not register at once: it hands ``bus.on`` to
``loop.call_soon`` so that the registration "starts after the current emit". An emit of
sync listeners runs and finishes without ever giving the loop a turn, so the next emit
can come (and go) before the deferred ``bus.on`` has run: the handler misses the next emit
and fires on a later one, or never. A student does this because they do not trust the
emit's snapshot to keep a freshly added listener out of the emit under way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority, current_event


def _inside_an_emit() -> bool:
    try:
        current_event()
    except RuntimeError:
        return False
    return True


def _register(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> None:
    fired = False

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        return handler(*args, **kwargs)

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    add = bus.on(event, priority=priority)  # checks the event and priority now, in every case
    if _inside_an_emit():
        try:
            # called by a listener: join from the next emit on, not the one under way
            asyncio.get_running_loop().call_soon(add, wrapper)
            return
        except RuntimeError:  # a sync emit outside any loop: nothing else is running
            pass
    add(wrapper)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # refuse a bad priority in the decorator form too

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            _register(bus, event, fn, priority)
            return fn

        return decorator
    _register(bus, event, handler, priority)
    return handler
