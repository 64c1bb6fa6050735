"""Exercise 2: once_semantics. A closure with a ``nonlocal`` flag; ``if not handler`` picks the decorator form.

BUG (planted): the page says "the decorator form is the one without a handler
(`handler is None`), not one whose handler is false" and a handler is "any callable,
a falsy one too (an empty collection with a `__call__`)". This version tests
``if not handler:``, the usual Python idiom for "no argument given", so a falsy
callable handler is taken for "no handler": ``once`` registers nothing and returns a
decorator instead of the handler, and the handler never runs.
"""

from __future__ import annotations

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
    if not handler:
        # decorator form: check event and priority now, the way bus.on does
        bus.on(event, priority=priority)

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    if not callable(handler):
        raise TypeError(f"handler must be callable, got {handler!r}")

    fired = False

    def listener(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, listener)
        return handler(*args, **kwargs)

    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, listener, priority=priority)
    return handler
