"""Bug: every 16th fire on a bus sweeps the ledger of armed registrations, dropping those whose listener is no longer on the bus, which also disarms a registration cancelled during the emit under way that must still run in it.

Breaks: "Cancelling *during* an emit (a higher-priority listener calls `bus.off(event, handler)`) takes effect from the next emit: the emit under way already holds your listener in its snapshot, so the handler still runs that once, and never after." ... a `HIGHEST` listener calls `bus.off("e", a)` for `once(bus, "e", a, priority=LOW)`, and 16 other once handlers at `MEDIUM` fire in that emit: the sweep after the 16th drops `a`, so `a` does not run in that emit.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_SWEEP_EVERY = 16


class _Ledger:
    """The armed once-registrations of one bus, by token."""

    def __init__(self) -> None:
        self.armed: dict[int, tuple[str, Callable[..., Any]]] = {}
        self.tokens = itertools.count()
        self.fires = 0

    def sweep(self, bus: EventBus) -> None:
        # bus.off(event, handler) removes our listener without telling us, so its
        # token would stay here for ever: drop the tokens whose listener is gone
        for token, (event, listener) in list(self.armed.items()):
            if not any(item is listener for item in bus.listeners(event)):
                del self.armed[token]


_ledgers: weakref.WeakKeyDictionary[EventBus, _Ledger] = weakref.WeakKeyDictionary()


def _ledger(bus: EventBus) -> _Ledger:
    ledger = _ledgers.get(bus)
    if ledger is None:
        ledger = _ledgers[bus] = _Ledger()
    return ledger


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

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register

    ledger = _ledger(bus)
    token = next(ledger.tokens)

    def listener(*args: Any, **kwargs: Any) -> Any:
        if ledger.armed.pop(token, None) is None:
            return None
        bus.off(event, listener)
        ledger.fires += 1
        if ledger.fires % _SWEEP_EVERY == 0:
            ledger.sweep(bus)
        return handler(*args, **kwargs)

    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, listener, priority=priority)
    ledger.armed[token] = (event, listener)
    return handler
