"""Bug: the listener is a ``functools.partial`` subclass whose ``__call__`` returns ``None`` once it has fired, but the bus sees through a partial and treats it as async when the handler is ``async def``, so an emit that reaches it after it fired awaits ``None`` and reports a ``TypeError`` nobody raised.

Breaks: "if a listener (or the handler itself) emits `event` again while the first emit is running, the handler still runs only once" and "returns that very exception in the emit's result, as for any listener" ... with `async def a(x)` given by `once(bus, "e", a)` and a HIGH listener that does `await bus.emit("e", 2)`, `await bus.emit("e", 1)` runs `a(2)` once, but the outer emit's `result.errors` holds `TypeError: object NoneType can't be used in 'await' expression`; the same happens to the second of `asyncio.gather(bus.emit("e", 1), bus.emit("e", 2))`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _FireOnce(functools.partial):
    """``partial(handler)``: calls the handler with exactly the emit's arguments,
    the first time only, and takes itself off the bus before it does."""

    bus: EventBus
    event: str
    fired: bool

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if self.fired:
            return None
        self.fired = True
        self.bus.off(self.event, self)
        # the handler's result (a coroutine, a task...) goes back to the bus, which awaits it
        return super().__call__(*args, **kwargs)


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
    listener = _FireOnce(handler)
    listener.bus = bus
    listener.event = event
    listener.fired = False
    listener.__wrapped__ = handler  # bus.off(event, handler) finds it by this
    bus.on(event, listener, priority=priority)
    return handler
