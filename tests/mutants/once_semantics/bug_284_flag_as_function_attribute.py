"""Exercise 2: once_semantics. A sync wrapper that keeps its flag as a function attribute.

BUG (planted): "one with attributes of its own, whatever their names (`functools.wraps`
copies them onto a wrapper: keep your wrapper's own state where they cannot replace it)"
(rule 6). The tidy-up dropped the ``nonlocal`` flag for an attribute on the wrapper
(``wrapper.called``) and moved the ``functools.update_wrapper`` call into a small
``_dress`` helper called last, after the attribute was set. ``update_wrapper`` copies the
handler's ``__dict__`` over the wrapper's, so a handler with a ``called`` attribute of its
own (one that notes it was called, as a mock does) replaces the flag: set to true, its
once never fires.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _dress(wrapper: Callable[..., Any], handler: Callable[..., Any]) -> Callable[..., Any]:
    """Make the wrapper look like the handler, with ``__wrapped__`` so ``off`` finds it."""
    return functools.update_wrapper(wrapper, handler)


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

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    if not callable(handler):
        raise TypeError(f"a handler must be callable, not {handler!r}")

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if wrapper.called:  # type: ignore[attr-defined]
            return None
        wrapper.called = True  # type: ignore[attr-defined]
        bus.off(event, wrapper)
        return handler(*args, **kwargs)

    wrapper.called = False  # type: ignore[attr-defined]
    bus.on(event, _dress(wrapper, handler), priority=priority)
    return handler
