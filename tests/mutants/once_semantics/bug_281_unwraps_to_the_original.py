"""Exercise 2: once_semantics. A ``functools.wraps`` closure whose ``__wrapped__`` is the innermost original function.

BUG (planted): the page says "`bus.off(event, handler)` (with the handler you were
given, or an equal one such as a new `obj.handle` of the same object; not any
wrapper of yours) before the event is emitted means it never runs". This version
sets ``__wrapped__`` to ``inspect.unwrap(handler)``, "the original handler", which
for a handler that is itself decorated (``functools.wraps``, ``lru_cache``) is the
function inside it, not the handler given: ``bus.off(event, handler)`` misses it and
the handler still runs, while ``bus.off(event, inner)`` cancels a registration that
was never made with ``inner``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _wrap(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    called = False

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal called
        if called:
            return None
        called = True
        bus.off(event, wrapper)
        return handler(*args, **kwargs)

    # bus.off(event, original) must find the wrapper: point it at the original function
    wrapper.__wrapped__ = inspect.unwrap(handler)  # type: ignore[attr-defined]
    return wrapper


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)
        return lambda fn: once(bus, event, fn, priority=priority)
    if not callable(handler):
        raise TypeError(f"not callable: {handler!r}")
    bus.on(event, _wrap(bus, event, handler), priority=priority)
    return handler
