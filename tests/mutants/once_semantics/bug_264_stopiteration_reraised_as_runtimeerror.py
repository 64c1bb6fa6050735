"""Exercise 2: once_semantics. Build ``once`` on top of an EventBus's ``on`` and ``off``.

BUG (rule 10): "its exception reaches the bus (do not catch it, do not wrap it in
another) ... a sync wrapper leaves it a ``StopIteration`` (a ``RuntimeError`` of your
own, raised from it, wraps it)." This sync wrapper catches a handler's
``StopIteration`` and raises its own ``RuntimeError`` from it, so the bus sees a
``RuntimeError``, not the handler's exception. An assistant "applies PEP 479 by hand",
knowing that a StopIteration leaking out of a callback misbehaves in generators/Futures.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _make_listener(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    """A sync one-shot listener; the bus awaits whatever awaitable it returns."""
    fired = False
    name = getattr(handler, "__qualname__", repr(handler))

    @functools.wraps(handler)
    def listener(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None  # still in the snapshot of an earlier (re-entrant/concurrent) emit
        fired = True
        bus.off(event, listener)  # only this registration, never bus.on(handler)
        try:
            return handler(*args, **kwargs)
        except StopIteration as exc:
            # A StopIteration escaping a callback can silently end an enclosing
            # generator and cannot be set on a Future: surface it as a RuntimeError,
            # exactly as PEP 479 does for coroutines.
            raise RuntimeError(f"once-handler {name} raised StopIteration") from exc

    return listener


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # same TypeError/ValueError as bus.on, right away
        return lambda fn: once(bus, event, fn, priority=priority)
    bus.on(event, _make_listener(bus, event, handler), priority=priority)
    return handler
