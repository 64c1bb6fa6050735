"""Style: a plain (sync) wrapper function whose only state is a countdown kept as its own attribute; it returns what the handler returns and lets the bus await it, and the decorator form is a ``functools.partial`` of ``once``.

Follows: "**Exactly once**: `handler` runs on the next emit of `event`, and never again" and "A sync handler too: ... the handler's own `bus.emit(event)` can reach your listener again before the handler has returned" (``remaining`` goes from 1 to 0 and the wrapper leaves the bus before the handler is called; a sync function cannot be interleaved between the test and the decrement, so re-entrant and concurrent emits find 0 and return); "`bus.off(event, handler)` ... before the event is emitted means it never runs" and "Cancelling *during* an emit ... still runs that once, and never after" (``__wrapped__`` is set to the handler by hand, with no ``functools.wraps`` that could copy a handler's own ``remaining``); "after it fired, the bus holds no listener of yours for `event`" (``bus.off(event, wrapper)``, under the pattern too); "`once(bus, "e", handler)`, `once(bus=bus, event="e", handler=handler)` and `@once(bus, "e")` all work ... and all return `handler` itself" and "each use is a registration of its own" (``partial(once, bus, event, priority=priority)`` calls ``once`` anew each time; ``handler is None`` decides); "a priority is anything `bus.on` takes ... pass it on unchanged"; "exactly the positional and keyword arguments given to `emit`" (``*args, **kwargs`` only); "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited ... It is awaited once" (the bus awaits a listener's awaitable result once, as for any listener); "its exception reaches the bus (do not catch it, do not wrap it in another)" (nothing is caught; even ``StopIteration`` stays itself); "the same handler given twice makes two registrations" and "your `once` removes only its own wrapper (`bus.off(event, wrapper)`, never `bus.off(event, handler)`)"; "`bus.once` is off limits".
"""

from __future__ import annotations

import functools
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

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if wrapper.remaining <= 0:  # type: ignore[attr-defined]
            return None
        wrapper.remaining -= 1  # type: ignore[attr-defined]
        bus.off(event, wrapper)
        return handler(*args, **kwargs)  # an awaitable result is awaited by the bus

    wrapper.remaining = 1  # type: ignore[attr-defined]
    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)
    return handler
