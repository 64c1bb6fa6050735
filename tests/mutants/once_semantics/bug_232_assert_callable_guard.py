"""Breaks: "A handler that is not callable ... refusing it at once with `TypeError`, or leaving it to
fail in the emit, are both fine; nothing else is (not another exception such as a `ValueError`".
The code guards with ``assert callable(handler)``: ``once(bus, "e", 42)`` raises AssertionError,
neither of the two outcomes allowed (and under ``python -O`` the guard disappears). Callers
that give real callables never see a difference.
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

    assert callable(handler), f"once() needs a callable handler, not {handler!r}"
    tickets = [True]  # one ticket: the first call that pops it is the one that fires

    async def listener(*args: Any, **kwargs: Any) -> None:
        if not tickets:
            return
        tickets.pop()
        bus.off(event, listener)
        outcome = handler(*args, **kwargs)
        if inspect.isawaitable(outcome):
            await outcome

    functools.update_wrapper(listener, handler)  # sets listener.__wrapped__ = handler
    bus.on(event, listener, priority=priority)
    return handler
