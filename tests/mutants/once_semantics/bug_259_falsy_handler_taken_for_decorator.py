"""Exercise 2: once_semantics. Build ``once`` on top of an EventBus's ``on`` and ``off``.

BUG (rule 6): "A handler is any callable, a falsy one too (an empty collection with
a ``__call__``) ... the decorator form is the one without a handler (``handler is
None``), not one whose handler is false." This version tests ``if not handler:``, so
a falsy callable handler is taken for the decorator form: nothing is registered and a
decorator is returned instead of the handler. An assistant writes the idiomatic
truthiness test for "no handler given".
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
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``.

    ``once(bus, "e", fn)`` registers ``fn``; ``@once(bus, "e")`` does the same as a
    decorator. Either way ``fn`` itself is returned.
    """
    if not handler:
        # Used as @once(bus, "event"): validate now, register when decorating.
        bus.on(event, priority=priority)

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = False  # closure state, so the handler's attributes can't shadow it

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:  # a snapshot taken before we fired (re-entrant / concurrent emit)
            return
        fired = True
        bus.off(event, wrapper)  # remove ourselves, never the handler itself
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
