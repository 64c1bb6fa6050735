"""Exercise 2: once_semantics. An ``async def`` wrapper that awaits the handler's awaitable itself; int priorities made plain.

BUG (planted): the page says "What `bus.on` refuses, `once` refuses too:
`priority=True` (a `bool` is no level to the bus) or `priority=None` raises the
`TypeError` that `bus.on` raises, and registers nothing". This version turns any
``int`` priority into a plain ``int`` first (``int(priority)``, so that ``IntEnum``
members reach the bus as numbers), and ``True`` is an ``int`` too: it becomes ``1``,
and the handler is silently registered at ``LOW`` instead of being refused.
"""

from __future__ import annotations

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
    if isinstance(priority, int):
        priority = int(priority)
    if handler is None:
        bus.on(event, priority=priority)

        def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return deco
    if not callable(handler):
        raise TypeError(f"once: handler {handler!r} is not callable")

    pending = True

    async def run_once(*args: Any, **kwargs: Any) -> Any:
        nonlocal pending
        if not pending:
            return None
        pending = False
        bus.off(event, run_once)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return await result
        return result

    run_once.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, run_once, priority=priority)
    return handler
