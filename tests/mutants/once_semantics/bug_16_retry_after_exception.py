"""BUG: "robust" once: if the handler raises, the wrapper re-arms itself (flag
reset and re-registered) so the handler is tried again on the next emit. A
handler that raised has run, and it runs again.

Violates rule 10: "A handler that raises counts as fired (it never runs again)"
(and rule 1 "never again").

(Re-checked under the re-specified text: still a bug.)
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
            fired = False  # it did not succeed: give it another chance next time
            bus.on(event, wrapper, priority=priority)
            raise

    bus.on(event, wrapper, priority=priority)
    return handler
