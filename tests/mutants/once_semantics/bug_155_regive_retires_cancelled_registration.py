"""Bug: when a handler is given again, every earlier registration of it that `off` took off the bus is retired, so the old registration an emit under way still holds in its snapshot no longer runs.

Breaks: "So a handler that gives itself again fires once per emit, and one a listener cancels and gives again at once runs in that emit (the old registration, in its snapshot) and in the next (the new one)." ... `once(bus, "e", a)`, then a HIGH listener calls `bus.off("e", a)` and `once(bus, "e", a)` during `emit("e", 1)`: `a` does not run in that emit (only in the next), though the emit's snapshot holds the old wrapper.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventBus, EventPriority


@dataclass(eq=False)
class _Registration:
    event: str
    handler: Callable[..., Any]
    listener: Callable[..., Any] | None = None
    fired: bool = False
    retired: bool = False


_registrations: weakref.WeakKeyDictionary[EventBus, list[_Registration]] = (
    weakref.WeakKeyDictionary()
)


def _retire_cancelled(bus: EventBus, event: str, handler: Callable[..., Any]) -> list[_Registration]:
    """Registrations of ``handler`` that were cancelled with off must stay dead."""
    regs = _registrations.setdefault(bus, [])
    listed = bus.listeners(event)
    for reg in list(regs):
        if reg.fired:
            regs.remove(reg)
        elif (reg.event == event and (reg.handler is handler or reg.handler == handler)
              and not any(cb is reg.listener for cb in listed)):
            reg.retired = True
            regs.remove(reg)
    return regs


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

    regs = _retire_cancelled(bus, event, handler)
    reg = _Registration(event, handler)

    async def listener(*args: Any, **kwargs: Any) -> None:
        if reg.fired or reg.retired:
            return
        reg.fired = True
        bus.off(event, listener)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    reg.listener = listener
    regs.append(reg)
    bus.on(event, listener, priority=priority)
    return handler
