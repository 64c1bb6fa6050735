"""Style: a listener class (one instance per registration) whose once-ness is an itertools.count ticket.

Follows: "Exactly once: handler runs on the next emit of event, and never again."
"Re-entrant emits ... the handler still runs only once." / "Concurrent emits ... runs the
handler once in total." (ticket 0 is drawn synchronously, before the handler is called)
"Cancelling: bus.off(event, handler) (with the handler you were given, or an equal one ...)"
(the instance's __wrapped__ is the handler) "your once removes only its own wrapper
(bus.off(event, wrapper), never bus.off(event, handler))"
"a wrapper of yours takes *args, **kwargs only ... the self of a wrapper class's __call__ is
the one exception the checks allow" (here self is even positional-only)
"whatever the handler returns that is awaitable (inspect.isawaitable) is awaited ... once"
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _OnceListener:
    """What goes on the bus for one ``once``: calls the handler the first time it is called."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.__wrapped__ = handler  # how bus.off(event, handler) finds this registration
        self._bus = bus
        self._event = event
        self._tickets = itertools.count()

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if next(self._tickets):  # 1, 2, ...: someone already drew ticket 0
            return None
        self._bus.off(self._event, self)  # this registration only (identity, no __eq__)
        # The bus awaits what this returns if it is awaitable (once), and sees the
        # handler's exception itself, raised now or when awaited.
        return self.__wrapped__(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<once {self._event!r}: {self.__wrapped__!r}>"


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
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
