"""Bug: once-handlers of one bus are serialised through a per-bus trampoline: a once-listener called while another once-handler of that bus is running queues its handler and runs it only after the running one returns.

Breaks: "Priority: the handler runs at `priority` among the event's other listeners" and "its exception reaches the bus ... the bus goes on with the other listeners and returns that very exception in the emit's result" ... `once(bus, "a", ha)` where `ha` awaits `bus.emit("b")`, with `once(bus, "b", hb)` and a LOW `bus.on("b", after)`: the "b" emit runs `after` and returns before `hb` runs (`hb` runs when `ha` returns, inside the "a" emit, which also gets `hb`'s exception).
"""

from __future__ import annotations

import inspect
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Trampoline:
    """One per bus: once-handlers run one at a time, nested ones after the current one."""

    def __init__(self) -> None:
        self.busy = False
        self.waiting: deque[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = deque()

    async def run(self, handler: Callable[..., Any], args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> None:
        if self.busy:
            self.waiting.append((handler, args, kwargs))
            return
        self.busy = True
        try:
            await _call(handler, args, kwargs)
        finally:
            try:
                while self.waiting:
                    h, a, k = self.waiting.popleft()
                    await _call(h, a, k)
            finally:
                self.busy = False


async def _call(handler: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    result = handler(*args, **kwargs)
    if inspect.isawaitable(result):
        await result


_trampolines: weakref.WeakKeyDictionary[EventBus, _Trampoline] = weakref.WeakKeyDictionary()


class _OnceListener:
    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus, self.event, self.handler = bus, event, handler
        self.__wrapped__ = handler
        self.fired = False

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self.fired:
            return
        self.fired = True
        self.bus.off(self.event, self)
        trampoline = _trampolines.setdefault(self.bus, _Trampoline())
        await trampoline.run(self.handler, args, kwargs)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return lambda fn: once(bus, event, fn, priority=priority)
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
