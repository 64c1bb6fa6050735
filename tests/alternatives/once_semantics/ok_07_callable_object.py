"""Style: a callable listener object (a class with a sync call method and slots) instead of a closure; decorator form via functools.partial.

Why it is correct: the object the bus holds carries the handler as its wrapped
attribute (set before bus.on, which reads it at registration), so
bus.off(event, handler) or an equal bound method finds it, while the object
itself hashes by identity, so removing it never touches a permanent listener or a
sibling registration of the same handler. On a call it first checks and sets its
own fired flag (one per registration, so the same handler given twice fires twice,
and snapshots held by re-entrant or concurrent emits see it fired), then takes
only itself off the bus, then calls the handler with exactly the emit's arguments.
The call method is sync and hands back whatever awaitable the handler returned,
which the bus then awaits (coroutine, Task, Future, async callable object); a
plain value is dropped. An exception from the handler is not caught, so the bus
sees that very exception, and the flag is already set. The priority is passed on
to bus.on unchanged, in every call form, and the handler itself is returned.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    __slots__ = ("__wrapped__", "_bus", "_event", "_fired")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.__wrapped__ = handler
        self._bus = bus
        self._event = event
        self._fired = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._fired:
            return None
        self._fired = True
        self._bus.off(self._event, self)
        result = self.__wrapped__(*args, **kwargs)
        return result if inspect.isawaitable(result) else None

    def __repr__(self) -> str:
        return f"<once {self.__wrapped__!r} on {self._event!r}>"


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
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
