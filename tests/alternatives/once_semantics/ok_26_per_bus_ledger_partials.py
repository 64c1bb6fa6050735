"""Style: a per-bus ledger (a ``weakref.WeakKeyDictionary`` from bus to a small object mapping each live ticket to its listener, weakly) owns an ``async def fire`` method; each registration is a ``functools.partial`` of it carrying a fresh ``object()`` ticket, and a ticket is claimed by popping it out of the ledger.

Follows: "`handler` runs on the next emit of `event`, and never again. That is on the bus it was given to: nothing of it reaches another bus, even a new one created where an old one was (keep no state by `id` in the module)" (tickets are fresh objects, filed under the bus object itself, weakly, so a new bus gets a new ledger); "**Re-entrant emits**" and "A sync handler too" (the ticket is taken and the partial taken off the bus before the handler is called); "**Concurrent emits**: ... once in total" (``dict.pop`` of the ticket, with no await before it); "`bus.off(event, handler)` ... before the event is emitted means it never runs ... during an emit ... still runs that once, and never after" (the partial's ``__wrapped__`` is the handler; an off only removes the partial, the ticket stays live for the emit under way); "**Nothing left behind**" (``bus.off(event, partial)`` under the given event or pattern); "all work ... and all return `handler` itself" (``handler is None`` gives a decorator that calls ``once`` with the same ``priority``); "A handler is any callable ..." (the handler is never hashed, tested for truth, weak-referenced or inspected); "pass it on unchanged" (``priority`` goes straight to ``bus.on``); "exactly the positional and keyword arguments given to `emit` ... `emit("e", event="x")` calls `handler(event="x")`" (``fire`` takes ``ticket``, ``event``, ``handler`` positional-only, so every emit keyword lands in ``**kwargs``); "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited ... It is awaited once" (one ``await``, when ``inspect.isawaitable`` says so); "**A handler that raises** counts as fired ... do not catch it" (no ``try``); "**The same handler given twice** makes two registrations" and "**A permanent listener survives**" (a partial and a ticket per call; only that partial is removed); "counts from the next emit" (plain ``bus.on``); "**Only `on` and `off` register and remove**".
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Ledger:
    """The once-registrations of one bus that have not fired yet, by ticket.

    It holds its bus weakly: the ledger is the bus's value in a
    ``WeakKeyDictionary``, and must not keep its own key alive.
    """

    def __init__(self, bus: EventBus) -> None:
        self.bus = weakref.ref(bus)
        # ticket -> its listener; weak values, so a listener cancelled with bus.off
        # (and out of every emit's snapshot) leaves nothing behind here either
        self.live: weakref.WeakValueDictionary[object, Callable[..., Any]] = (
            weakref.WeakValueDictionary()
        )

    def add(self, event: str, handler: Callable[..., Any], priority: Any) -> None:
        bus = self.bus()
        if bus is None:
            return
        ticket = object()
        listener = functools.partial(self.fire, ticket, event, handler)
        listener.__wrapped__ = handler  # type: ignore[attr-defined]  # for bus.off(event, handler)
        bus.on(event, listener, priority=priority)  # raises before anything is filed
        self.live[ticket] = listener

    async def fire(
        self, ticket: object, event: str, handler: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> None:
        listener = self.live.pop(ticket, None)
        if listener is None:  # fired already, from this emit's snapshot or another
            return
        bus = self.bus()
        if bus is not None:
            bus.off(event, listener)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result


_ledgers: weakref.WeakKeyDictionary[EventBus, _Ledger] = weakref.WeakKeyDictionary()


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    ledger = _ledgers.get(bus)
    if ledger is None:
        ledger = _ledgers[bus] = _Ledger(bus)
    ledger.add(event, handler, priority)
    return handler
