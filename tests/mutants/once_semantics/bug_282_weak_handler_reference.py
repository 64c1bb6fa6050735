"""Exercise 2: once_semantics. A sync closure wrapper that holds the handler through a weak reference.

BUG (planted): "A handler is any callable, ... one that cannot be weakly referenced
(`__slots__`)" (rule 6). The tidy-up swapped the closure's plain reference to the
handler for a ``weakref`` (``WeakMethod`` for a bound method) "so that an armed once
never keeps a dead object alive", read back at each call. That works for functions,
lambdas, bound methods and even builtins, but ``weakref.ref`` refuses an instance of a
class with ``__slots__`` (no ``__weakref__``): ``once`` raises ``TypeError`` for a
handler the page says must work.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _weak(handler: Callable[..., Any]) -> Callable[[], Callable[..., Any] | None]:
    """A weak reference to ``handler``; a bound method needs ``WeakMethod`` (it is a new object)."""
    if hasattr(handler, "__func__") and hasattr(handler, "__self__"):
        return weakref.WeakMethod(handler)  # type: ignore[arg-type]
    return weakref.ref(handler)


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
        return functools.partial(once, bus, event, priority=priority)
    if not callable(handler):
        raise TypeError(f"a handler must be callable, not {handler!r}")
    deref = _weak(handler)
    fired = False

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        target = deref()
        if target is None:  # its object is gone: nothing to call
            return None
        return target(*args, **kwargs)

    bus.on(event, wrapper, priority=priority)
    return handler
