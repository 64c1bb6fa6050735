"""Bug: resets the fired flag in a finally block after the handler finished (so that the handler "can be given again"), so an emit that still holds the wrapper in its snapshot (re-entrant or concurrent) fires the handler a second time.

Breaks rule 2: "if a listener (or the handler itself) emits `event` again while the first emit is running, the handler still runs only once." (and likewise rule 3, concurrent emits, when the handler finishes before the second emit reaches it)
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
        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)
        return decorate

    running = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal running
        if running:
            return
        running = True
        bus.off(event, wrapper)
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        finally:
            running = False

    bus.on(event, wrapper, priority=priority)
    return handler
