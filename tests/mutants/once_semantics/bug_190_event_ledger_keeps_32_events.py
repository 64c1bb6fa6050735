"""Bug: the per-bus ledger of armed registrations keeps only the 32 most recently used event names and forgets the oldest one beyond that, so a registration on a forgotten event never fires.

Breaks: "**Exactly once**: `handler` runs on the next emit of `event`, and never again. `event` is any name the bus takes (`"first.login"`, `"room[1]:joined"`)" ... `once(bus, "room0", h)`, then `once` on `"room1"`..`"room32"` (33 event names in all), then `await bus.emit("room0")`: `room0`'s ledger was dropped, so `h` does not run.
"""

from __future__ import annotations

import itertools
import weakref
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import Any

from day25 import EventBus, EventPriority

_MAX_EVENTS = 32


class _Ledger:
    """Armed tokens of one bus, per event name, most recently used last."""

    def __init__(self) -> None:
        self.by_event: OrderedDict[str, set[int]] = OrderedDict()
        self.tokens = itertools.count()

    def arm(self, event: str) -> int:
        token = next(self.tokens)
        armed = self.by_event.setdefault(event, set())
        self.by_event.move_to_end(event)
        armed.add(token)
        while len(self.by_event) > _MAX_EVENTS:
            self.by_event.popitem(last=False)
        return token

    def claim(self, event: str, token: int) -> bool:
        armed = self.by_event.get(event)
        if armed is None or token not in armed:
            return False
        armed.discard(token)
        if not armed:
            del self.by_event[event]
        return True


_ledgers: weakref.WeakKeyDictionary[EventBus, _Ledger] = weakref.WeakKeyDictionary()


def _fire(bus: EventBus, event: str, ledger: _Ledger, box: list[Any], /,
          *args: Any, **kwargs: Any) -> Any:
    token, listener, handler = box
    if not ledger.claim(event, token):
        return None
    bus.off(event, listener)
    return handler(*args, **kwargs)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)
        return partial(once, bus, event, priority=priority)
    ledger = _ledgers.get(bus)
    if ledger is None:
        ledger = _ledgers[bus] = _Ledger()
    box: list[Any] = [None, None, handler]
    listener = partial(_fire, bus, event, ledger, box)
    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    box[1] = listener
    bus.on(event, listener, priority=priority)
    box[0] = ledger.arm(event)
    return handler
