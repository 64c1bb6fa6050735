"""Bug: to let a timed-out emit still count the handler as fired, the wrapper catches ``TimeoutError`` around the await of the handler and returns quietly, which swallows a ``TimeoutError`` the handler itself raises (a send of its own that timed out).

Breaks: "**A handler that raises** counts as fired (it never runs again), and its exception reaches the bus (do not catch it, do not wrap it in another): the bus goes on with the other listeners and returns that very exception in the emit's result" ... `async def h(x): raise TimeoutError("smtp")` given with `once(bus, "e", h)`: `await bus.emit("e", 1)` returns a result with no errors instead of that `TimeoutError` (a handler's `ValueError` is still reported).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


@dataclasses.dataclass(eq=False)
class _OnceListener:
    bus: EventBus
    event: str
    handler: Callable[..., Any]
    armed: bool = True

    def __post_init__(self) -> None:
        self.__wrapped__ = self.handler  # what bus.off(event, handler) finds us by

    async def __call__(self, /, *args: Any, **kwargs: Any) -> None:
        if not self.armed:
            return
        self.armed = False
        self.bus.off(self.event, self)
        result = self.handler(*args, **kwargs)
        if inspect.isawaitable(result):
            try:
                await result
            except TimeoutError:
                # the emit ran out of time while the handler ran: it has had its turn
                # (rule 1), nothing to retry and nothing to report
                return


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return functools.partial(once, bus, event, priority=priority)
    if not callable(handler):
        raise TypeError(f"a listener must be callable, not {handler!r}")
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
