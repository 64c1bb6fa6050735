"""Bug: on an event with 16 or more listeners the listener that fired does not take itself off at once but is queued and taken off in batches of 4, so after a single fire on a busy event it is still on the bus.

Breaks: "**Nothing left behind**: after it fired, the bus holds no listener of yours for `event` (`len(bus.listeners(event))` is back where it was). It fired when it was called: its listener is off the bus from then on" ... with 20 `bus.on("e", ...)` listeners, `once(bus, "e", h)` then `await bus.emit("e")`: `len(bus.listeners("e"))` is 21 afterwards, not 20.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventBus, EventPriority

_BUSY = 16  # listeners on one event from which offs are batched
_BATCH = 4


@dataclass
class _Offs:
    """Listeners of one bus waiting to be taken off, oldest first."""

    waiting: list[tuple[str, Callable[..., Any]]] = field(default_factory=list)

    def take_off(self, bus: EventBus, event: str, listener: Callable[..., Any]) -> None:
        if len(bus.listeners(event)) < _BUSY:
            bus.off(event, listener)
            return
        # a busy event: one off per fire is wasteful, take them off a few at a time
        self.waiting.append((event, listener))
        if len(self.waiting) >= _BATCH:
            for name, fn in self.waiting:
                bus.off(name, fn)
            self.waiting.clear()


_offs: weakref.WeakKeyDictionary[EventBus, _Offs] = weakref.WeakKeyDictionary()


def _make_listener(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    offs = _offs.setdefault(bus, _Offs())
    state = {"fired": False}

    def listener(*args: Any, **kwargs: Any) -> Any:
        if state["fired"]:
            return None
        state["fired"] = True
        offs.take_off(bus, event, listener)
        return handler(*args, **kwargs)

    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    return listener


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
            bus.on(event, _make_listener(bus, event, fn), priority=priority)
            return fn

        return register
    bus.on(event, _make_listener(bus, event, handler), priority=priority)
    return handler
