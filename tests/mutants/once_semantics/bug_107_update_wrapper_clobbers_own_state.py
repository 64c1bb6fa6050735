"""Bug: the wrapper object sets its own ``bus``/``event``/``handler``/``fired`` attributes and then calls ``functools.update_wrapper(self, handler)``, which copies the handler's ``__dict__`` over them, so a callable object with an attribute of the same name hijacks the wrapper.

Breaks: "A handler is any callable, a falsy one too (an empty collection with a `__call__`), one without a hash (a `@dataclass` with a `__call__`)" and "after it fired, the bus holds no listener of yours for `event` (`len(bus.listeners(event))` is back where it was)" ... with `@dataclass class Notify: event: str; def __call__(self, user): ...`, `once(bus, "login", Notify(event="welcome"))` fires on the next "login" but then calls `bus.off("welcome", wrapper)`, so its wrapper stays under "login" (`len(bus.listeners("login"))` is 1); a handler object with a `handler` attribute gets that attribute called instead of itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class OnceListener:
    """One ``once`` registration: a sync callable the bus holds instead of the handler."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.handler = handler
        self.fired = False
        # look like the handler (name, doc) and point at it (__wrapped__) for bus.off
        functools.update_wrapper(self, handler)

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if self.fired:  # a snapshot taken before we left (re-entrant or concurrent emit)
            return None
        self.fired = True
        self.bus.off(self.event, self)
        # whatever it returns goes back to the bus, which awaits it if it is awaitable
        return self.handler(*args, **kwargs)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        bus.on(event, OnceListener(bus, event, fn), priority=priority)
        return fn

    return register if handler is None else register(handler)
