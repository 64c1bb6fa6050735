"""Exercise 2: once_semantics.

A class design: each registration is a ``_OnceListener`` object (``__slots__``, so its
``fired`` flag lives in a slot no copied attribute can touch) whose ``async def
__call__(self, *args, **kwargs)`` claims the flag and leaves the bus before it calls the
handler, then awaits what the handler returned when it is awaitable (the same test as
``inspect.isawaitable``, written out), once. ``__wrapped__`` points at the handler, so
``bus.off(event, handler)`` finds it. The decorator is a small nested function.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any

from day25 import EventBus, EventPriority

_CO_ITERABLE_COROUTINE = 0x100  # the code flag @types.coroutine sets on a generator


def _is_awaitable(value: Any) -> bool:
    """What ``inspect.isawaitable`` says: an awaitable, or a generator-based coroutine."""
    if isinstance(value, Awaitable):
        return True
    code = getattr(value, "gi_code", None)
    return isinstance(value, Generator) and code is not None and bool(
        code.co_flags & _CO_ITERABLE_COROUTINE)


class _OnceListener:
    """The listener ``once`` puts on the bus for one registration."""

    __slots__ = ("__wrapped__", "bus", "event", "fired")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.__wrapped__ = handler
        self.fired = False

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fired:
            return None
        self.fired = True
        self.bus.off(self.event, self)
        result = self.__wrapped__(*args, **kwargs)
        if _is_awaitable(result):
            return await result
        return result


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # registers nothing: refuses what the bus refuses

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register
    if not callable(handler):
        raise TypeError(f"a handler must be callable, not {handler!r}")
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
