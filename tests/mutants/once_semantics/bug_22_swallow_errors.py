"""BUG (was amb_02_swallow_errors.py, decided by the new text): the wrapper
catches an Exception raised by the handler and logs it itself, so the bus never
sees it (``result.errors`` is empty; ``EventBus(raise_errors=True)`` does not
raise). It still fires once and leaves nothing behind.

Violates rule 10: "A handler that raises counts as fired (it never runs again),
and its exception reaches the bus (do not catch it)".
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

log = logging.getLogger(__name__)


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

    fired = False

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("once-handler %r for %r raised", handler, event)

    bus.on(event, wrapper, priority=priority)
    return handler
