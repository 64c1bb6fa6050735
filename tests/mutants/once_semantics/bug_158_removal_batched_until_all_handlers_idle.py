"""Bug: fired wrappers are not taken off the bus at once but queued in one module-level batch that is flushed only when no once-handler is running anywhere, so a long handler in another task keeps finished wrappers on the bus.

Breaks: "Nothing left behind: after it fired, the bus holds no listener of yours for `event` (`len(bus.listeners(event))` is back where it was)." ... a task awaits a slow once-handler of "slow" while another task does `once(bus, "e", h)` and `await bus.emit("e")`: after that emit returned, `len(bus.listeners("e"))` is still 1 until the slow handler ends.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# Taking a listener off while the bus walks its listeners felt unsafe: fired wrappers
# wait here until no once-handler runs, then all of them go at once.
_active = 0
_fired: list[tuple[EventBus, str, Callable[..., Any]]] = []


def _flush() -> None:
    while _fired:
        bus, event, listener = _fired.pop()
        bus.off(event, listener)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register

    fired = False

    async def listener(*args: Any, **kwargs: Any) -> None:
        global _active
        nonlocal fired
        if fired:
            return
        fired = True
        _fired.append((bus, event, listener))
        _active += 1
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        finally:
            _active -= 1
            if not _active:
                _flush()

    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, listener, priority=priority)
    return handler
