"""BUG: the decorator form is ``functools.partial(once, bus, event)``, which drops
the ``priority`` given to ``@once(bus, "e", priority=...)``: decorated handlers
always run at MEDIUM (the direct call form is right).

Violates rule 7: "**Priority**: the handler runs at `priority` among the event's
other listeners." together with rule 6 "`once(bus, "e", handler)` and
`@once(bus, "e")` both work".
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
        return functools.partial(once, bus, event)

    fired = False

    @functools.wraps(handler)
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
