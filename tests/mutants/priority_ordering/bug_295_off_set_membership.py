"""Exercise 1: priority_ordering. Dataclass registrations per event, stable sort at emit.

BUG (planted): "The same holds for every handler, not only Python's bound methods: `lst.append`
of one list, or an object with its own `__eq__` (even one that cannot be hashed, as a class
that defines `__eq__` alone cannot)." The tidy-up turned `off`'s early exit
`if not any(r.handler == handler for r in regs): return` into the shorter
`if handler not in {r.handler for r in regs}: return`. Building that set hashes every
registered handler, so once an unhashable handler (a class with `__eq__` alone) is on the
event, `off` raises `TypeError` instead of removing it.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority


def _is_awaitable(value: Any) -> bool:
    """Like ``inspect.isawaitable``: ``__await__``, or a generator made by @types.coroutine."""
    if isinstance(value, Awaitable):
        return True
    return isinstance(value, Generator) and bool(value.gi_code.co_flags & 0x100)


@dataclass
class Registration:
    handler: Callable[..., Any]
    priority: int
    order: int


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._regs: dict[str, list[Registration]] = {}
        self._order = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._regs.setdefault(event, []).append(
            Registration(handler, int(priority), next(self._order))
        )
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        regs = self._regs.get(event, [])
        if handler not in {r.handler for r in regs}:
            return
        self._regs[event] = [r for r in regs if r.handler != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(self._regs.get(event, []), key=lambda r: r.priority, reverse=True)
        for reg in snapshot:
            result = reg.handler(*args, **kwargs)
            if _is_awaitable(result):
                await result
