"""Style: a plain (sync) wrapper that hands the handler's result back to the bus, built by a small factory; the bus awaits it.

Why it is correct: the wrapper checks and sets its own fired flag and calls bus.off(event, wrapper)
before it calls the handler, all synchronously, so no re-entrant or concurrent emit (even an eager
one) can get past the flag. It returns whatever the handler returned; the bus awaits a returned
awaitable once (inspect.isawaitable), and an exception raised by the call or by awaiting reaches
the bus untouched. functools.wraps sets the wrapper's wrapped attribute before bus.on, so
bus.off(event, handler) finds it; the wrapper only ever removes itself. Priority is passed on
unchanged in every form, and once returns the handler itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _one_shot(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    pending = [True]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not pending:
            return None
        pending.clear()
        bus.off(event, wrapper)
        return handler(*args, **kwargs)  # an awaitable is awaited by the bus

    return functools.wraps(handler)(wrapper)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return functools.partial(once, bus, event, priority=priority)
    bus.on(event, _one_shot(bus, event, handler), priority=priority)
    return handler
