"""BUG: the wrapper accepts ``*args, **kwargs`` but forwards only ``*args`` to the
handler: keyword arguments given to ``bus.emit`` never reach it (a handler that
needs one fails with TypeError; one with a default silently gets the default).

Violates rule 8: "**Arguments**: the handler gets exactly the positional and
keyword arguments given to `emit`." (now explicit in the re-specified text).

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
        result = handler(*args)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
