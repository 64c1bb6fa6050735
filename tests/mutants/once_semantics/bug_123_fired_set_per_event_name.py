"""Bug: the fired guard remembers the *event names* it fired for (from ``current_event()``), so under a wildcard pattern an emit of a different matching event that already holds the wrapper in its snapshot fires the handler again.

Breaks: "`event` may be a wildcard pattern (`"ui:*"`, `"*"`): the handler fires on the next event it hears, and then nothing of yours is left under the pattern." and "`handler` runs on the next emit of `event`, and never again." ... `once(bus, "ui:*", h)` with an async `h`, then `await asyncio.gather(bus.emit("ui:a", 1), bus.emit("ui:b", 2))` runs `h` twice (`h(1)` and `h(2)`); with an exact event name it behaves.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority, current_event


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return functools.partial(once, bus, event, priority=priority)

    heard: set[str] = set()  # the emits that already got their call

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        name = current_event()
        if name in heard:  # re-entrant or concurrent emit of the same event
            return None
        heard.add(name)
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)
    return handler
