"""Correct: a SYNC wrapper that hands the handler's return value back to the bus, with a one-shot token list instead of a flag.

Why it is correct: the bus awaits any awaitable a listener returns, so a sync wrapper that
returns what the handler returned gets async handlers, async-call objects, coroutines and
Tasks awaited, and the handler's own exception (raised by the call or by that await) reaches
the bus untouched. The token is popped synchronously before the handler is called, so a
re-entrant or concurrent emit that still holds the wrapper in its snapshot finds the list
empty and returns. The wrapper takes only itself off (bus.off with the wrapper) before the
call, functools.wraps sets __wrapped__ before bus.on so bus.off(event, handler) finds it,
priority is passed on unchanged and the handler itself is returned in every form.
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

    token: list[Callable[..., Any]] = [handler]

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not token:
            return None
        fn = token.pop()
        bus.off(event, wrapper)
        return fn(*args, **kwargs)  # the bus awaits it if it is awaitable

    bus.on(event, wrapper, priority=priority)
    return handler
