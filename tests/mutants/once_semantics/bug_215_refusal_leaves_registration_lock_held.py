"""Bug: refusal_leaves_registration_lock_held.
Breaks rule 7: "What bus.on refuses, once refuses too: priority=True ... raises the TypeError
that bus.on raises, and registers nothing" (and rule 1: the next once(...) must fire on the
next emit). Registration is guarded by a module threading.Lock taken and released by hand;
when bus.on refuses (bool priority, unknown level name) the release is skipped. The refused
call itself raises correctly; the next once() call, on any bus, blocks forever.
"""

from __future__ import annotations

import functools
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# bus.on is not thread-safe: one registration at a time, whichever thread calls once
_REGISTERING = threading.Lock()


def _arm(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> None:
    ticket: deque[Callable[..., Any]] = deque([handler])

    @functools.wraps(handler)
    def fire_once(*args: Any, **kwargs: Any) -> Any:
        try:
            fn = ticket.popleft()
        except IndexError:
            return None  # spent: a re-entrant or concurrent emit still had us
        bus.off(event, fire_once)
        # whatever fn returns goes back to the bus, which awaits it (once) when it is
        # awaitable and leaves any other value alone
        return fn(*args, **kwargs)

    _REGISTERING.acquire()
    bus.on(event, fire_once, priority=priority)
    _REGISTERING.release()


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            _arm(bus, event, fn, priority)
            return fn

        return register
    _arm(bus, event, handler, priority)
    return handler
