"""BUG: the wrapper sets its flag first (so it never runs twice) but takes itself
off only after the handler returned normally, not in a ``finally``: if the
handler raises, the wrapper stays registered on the bus forever (a dead listener
that every later emit calls and that shows in ``bus.listeners(event)``).

Violates rule 10: "A handler that raises counts as fired (it never runs again)"
and rule 5: "**Nothing left behind**: after it fired, the bus holds no listener
of yours for `event`".

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
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result
        bus.off(event, wrapper)

    bus.on(event, wrapper, priority=priority)
    return handler
