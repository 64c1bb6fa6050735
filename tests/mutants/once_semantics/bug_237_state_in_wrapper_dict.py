"""BUG (rule 6): a handler may have "attributes of its own, whatever their names
(`functools.wraps` copies them onto a wrapper: keep your wrapper's own state where they
cannot replace it)". The fired flag is an attribute `wrapper.fired` set BEFORE
functools.update_wrapper copies the handler's __dict__ onto the wrapper, so a handler that
has an attribute `fired` (e.g. `fired = True`, or a counter starting at 1) overwrites the
state and never runs.
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
        return lambda fn: once(bus, event, fn, priority=priority)

    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if wrapper.fired:
            return
        wrapper.fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    wrapper.fired = False  # type: ignore[attr-defined]
    functools.update_wrapper(wrapper, handler)
    bus.on(event, wrapper, priority=priority)
    return handler
