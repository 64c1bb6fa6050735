"""Style: a plain sync closure whose one-shot state is a one-item list it pops (no flag, no class).

Follows: "Exactly once: handler runs on the next emit of event, and never again."
"Re-entrant emits ... the handler still runs only once." / "Concurrent emits ... runs the
handler once in total." (the pop happens before anything else, synchronously)
"your once removes only its own wrapper (bus.off(event, wrapper), never bus.off(event, handler))"
"whatever the handler returns that is awaitable (inspect.isawaitable) is awaited ... It is
awaited once" (the sync wrapper hands the awaitable to the bus, which awaits it once)
"its exception reaches the bus (do not catch it, do not wrap it in another)"
"the decorator form is the one without a handler (handler is None)"
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

    # The one thing that can be taken: whoever pops it calls the handler; every later
    # (re-entrant, concurrent or stale-snapshot) call finds the list empty.
    ticket: list[Callable[..., Any]] = [handler]

    def listener(*args: Any, **kwargs: Any) -> Any:
        try:
            target = ticket.pop()
        except IndexError:
            return None
        bus.off(event, listener)  # only this registration, not the handler's others
        # A sync listener: an awaitable it returns is awaited by the bus, once, and
        # whatever the handler raises (now or when awaited) goes to the bus untouched.
        return target(*args, **kwargs)

    functools.update_wrapper(listener, handler)  # __wrapped__: bus.off(event, handler) finds it
    bus.on(event, listener, priority=priority)
    return handler
