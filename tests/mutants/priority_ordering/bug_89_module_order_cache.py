"""Bug: the sorted listener order is memoised in a module-level cache keyed only by the event name, so two emitters that use the same event name can get each other's listeners.

Breaks: "So are emitters: a new PriorityEmitter holds nothing of another one's, even one created where an old one was (keep the state in the object, not in the module)."
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

# event name -> ordered tuple of handlers, rebuilt after every on/off
_ORDER_CACHE: dict[str, tuple[Callable[..., Any], ...]] = {}


class PriorityEmitter:
    """Registrations in a list per event; the emit order is cached until on/off."""

    def __init__(self) -> None:
        self._regs: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._next = 0

    def _invalidate(self, event: str) -> None:
        _ORDER_CACHE.pop(event, None)

    def _ordered(self, event: str) -> tuple[Callable[..., Any], ...]:
        cached = _ORDER_CACHE.get(event)
        if cached is None:
            regs = sorted(self._regs.get(event, ()), key=lambda r: (-r[0], r[1]))
            cached = tuple(r[2] for r in regs)
            _ORDER_CACHE[event] = cached
        return cached

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._regs.setdefault(event, []).append((int(priority), self._next, handler))
        self._next += 1
        self._invalidate(event)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        regs = self._regs.get(event)
        if not regs:
            return
        self._regs[event] = [r for r in regs if not (r[2] == handler)]
        self._invalidate(event)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for handler in self._ordered(event):  # a tuple: a snapshot by construction
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
