"""Style: structural pattern matching throughout: ``match handler`` picks the decorator or the call form, and the async listener matches on an ``enum`` phase kept in a one-slot list.

Follows: "`handler` runs on the next emit of `event`, and never again" (phase ARMED -> SPENT on the first call, SPENT returns at once); "the handler still runs only once" for re-entrant and concurrent emits (the phase switch and ``bus.off(event, listener)`` come before the handler is called or awaited); "`bus.off(event, handler)` (with the handler you were given, or an equal one ...)" (``functools.wraps`` sets ``__wrapped__``; each ``once`` makes a new listener, so given again it fires again); "the bus holds no listener of yours for `event`" and "`event` may be a wildcard pattern" (it offs itself under the key it was registered with); "`once(bus, "e", handler)`, `once(bus=bus, event="e", handler=handler)` and `@once(bus, "e")` all work ... and all return `handler` itself" with "the decorator form is the one without a handler (`handler is None`)" (``case None`` is an identity test, so a falsy handler is a handler); "A handler is any callable ..." (``functools.wraps`` copies what exists, no hashing, no ``inspect.signature``); "pass it on unchanged" (``priority`` as given to ``bus.on``); "the handler gets exactly the positional and keyword arguments given to `emit`" (``*args, **kwargs`` only); "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited ... It is awaited once" (one ``await`` of the result, whatever its truth value; anything else is a value); "A handler that raises counts as fired ... its exception reaches the bus" (nothing is caught; the phase already switched; PEP 479's ``RuntimeError`` is the allowed exception); "The same handler given twice makes two registrations" and "your `once` removes only its own wrapper"; "Given while an emit runs ... counts from the next emit" (a plain ``bus.on``); "Only `on` and `off` register and remove".
"""

from __future__ import annotations

import enum
import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class Phase(enum.Enum):
    ARMED = enum.auto()
    SPENT = enum.auto()


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    match handler:
        case None:
            return functools.partial(once, bus, event, priority=priority)
        case _:
            pass

    phase = [Phase.ARMED]

    @functools.wraps(handler)
    async def listener(*args: Any, **kwargs: Any) -> None:
        match phase[0]:
            case Phase.SPENT:
                return
            case Phase.ARMED:
                phase[0] = Phase.SPENT
                bus.off(event, listener)
        outcome = handler(*args, **kwargs)
        if inspect.isawaitable(outcome):
            await outcome

    bus.on(event, listener, priority=priority)
    return handler
