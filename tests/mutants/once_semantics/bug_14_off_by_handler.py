"""BUG: the wrapper takes itself off with ``bus.off(event, handler)`` instead of
``bus.off(event, wrapper)``. That removes the wrapper (its __wrapped__ is
handler) but ALSO every other registration of the same handler on the event:
a permanent ``bus.on(event, handler)`` registered by someone else is gone after
the once fired.

Violates rule 12: "**A permanent listener survives**: `bus.on(event, handler)` and
`once(bus, event, handler)` together run the handler twice on the next emit,
and the `on` one keeps running after: your `once` removes only its own wrapper
(`bus.off(event, wrapper)`, never `bus.off(event, handler)`)." (also rule 11:
a second once of the same handler is cancelled by the first one firing).

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
        bus.off(event, handler)  # off() also matches our wrapper via __wrapped__
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
