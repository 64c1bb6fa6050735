"""BUG: the wrapper is not decorated with ``functools.wraps(handler)`` (no
``__wrapped__``), so ``bus.off(event, handler)`` does not recognise it: the
once-listener cannot be cancelled with the handler the user passed.

Violates rule 4: "`bus.off(event, handler)` (with the handler you were given,
not any wrapper of yours) before the event is emitted means it never runs."

(Re-checked under the re-specified text: still a bug.)
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
    if handler is None:
        return lambda fn: once(bus, event, fn, priority=priority)

    fired = False

    async def wrapper(*args: Any, **kwargs: Any) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
