"""Style: a registrar object per ``(bus, event, priority)`` makes one ``async def`` closure per registration, armed by a one-token ``collections.deque``: the call that pops the token is the one that runs the handler.

Follows: "Exactly once" / "Re-entrant emits" / "Concurrent emits": ``tokens.popleft()`` is the first thing the listener does, with no ``await`` before it, so only one call of it (from any snapshot, re-entrant or concurrent, sync or async handler) ever gets past; "It fired when it was called: its listener is off the bus from then on": ``bus.off(event, listener)`` follows at once, before the handler runs, and removes only this closure, never a permanent ``bus.on`` of the handler (rule 12); "`bus.off(event, handler)` ... cancels": ``functools.wraps`` gives the closure ``__wrapped__ = handler``; "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited ... It is awaited once": ``if inspect.isawaitable(result): await result``, and what that gives back is dropped as a value; "its exception reaches the bus": only the ``popleft`` is inside ``try``, the handler's call and await are not; "exactly the positional and keyword arguments": the closure takes ``*args, **kwargs`` only; "each use is a registration of its own, as a call is": the registrar's ``__call__`` makes a new closure and token each time; "pass it on unchanged" / "What `bus.on` refuses, `once` refuses too ... the decorator too": ``priority`` is only ever given to ``bus.on``, and the registrar asks ``bus.on`` when it is made; "all return `handler` itself".
"""

from __future__ import annotations

import functools
import inspect
from collections import deque
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Registrar:
    """``once(bus, event)`` without a handler: every use registers anew."""

    def __init__(self, bus: EventBus, event: str, priority: Any) -> None:
        bus.on(event, priority=priority)  # refuses a bool or an unknown level name now
        self.bus = bus
        self.event = event
        self.priority = priority

    def __call__(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        bus, event = self.bus, self.event
        tokens: deque[object] = deque([object()])

        async def listener(*args: Any, **kwargs: Any) -> None:
            try:
                tokens.popleft()
            except IndexError:
                return  # an older snapshot, or a second concurrent emit
            bus.off(event, listener)
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result

        bus.on(event, functools.wraps(handler)(listener), priority=self.priority)
        return handler


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    register = _Registrar(bus, event, priority)
    return register if handler is None else register(handler)
