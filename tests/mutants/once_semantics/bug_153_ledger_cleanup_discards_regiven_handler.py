"""Bug: the wrapper decides before calling the handler that it is the event's last armed registration and, after the handler, drops the event's whole ledger entry, wiping any registration made meanwhile.

Breaks: "Given while an emit runs: `once(bus, event, handler)` called by a listener (or by the handler itself) while an emit of `event` runs counts from the next emit, like any `bus.on` then (snapshot). So a handler that gives itself again fires once per emit" ... `once(bus, "e", h)` where `h` calls `once(bus, "e", h)`: the first emit runs `h`, the tidy-up then deletes the new token, so the second emit runs nothing (the new wrapper stays on the bus, disarmed, forever).
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# bus -> event -> the tokens of the registrations that have not fired yet
_ledger: weakref.WeakKeyDictionary[EventBus, dict[str, set[object]]] = (
    weakref.WeakKeyDictionary()
)


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

    token = object()
    _ledger.setdefault(bus, {}).setdefault(event, set()).add(token)

    async def listener(*args: Any, **kwargs: Any) -> None:
        tokens = _ledger.get(bus, {}).get(event)
        if tokens is None or token not in tokens:
            return  # already fired (re-entrant or concurrent emit)
        tokens.discard(token)
        last = not tokens  # no other once of this event is waiting
        bus.off(event, listener)
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        finally:
            if last:
                # tidy up: nothing of ours is armed for this event any more
                _ledger.get(bus, {}).pop(event, None)

    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, listener, priority=priority)
    return handler
