"""Exercise 1: priority_ordering. NamedTuple registrations, a key helper for "the same handler".

BUG (planted): "`off` compares handlers with `==`, not `is` ... The same object, not an equal
one: `a.handle` and `b.handle` of two equal dataclass instances are two handlers, as Python's
own `==` on them says." The tidy-up rewrote `off`'s condition `r.handler == handler` as a
comparison of `_key(h)`, the pair (`__self__`, `__func__`) that spells out "same function on
the same object". The tuple compares the objects with `==`, not by identity as bound methods
do, so `off("e", a.handle)` also removes `b.handle` when `a == b`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Generator
from typing import Any, NamedTuple

from day25 import EventPriority


class _Reg(NamedTuple):
    rank: int  # negated priority: smaller runs first
    seq: int
    handler: Callable[..., Any]


def _key(handler: Callable[..., Any]) -> tuple[Any, Any]:
    """What identifies a handler: for a bound method its object and function, else itself."""
    return getattr(handler, "__self__", None), getattr(handler, "__func__", handler)


def _is_awaitable(value: Any) -> bool:
    if hasattr(value, "__await__"):
        return True
    return isinstance(value, Generator) and bool(value.gi_code.co_flags & 0x100)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[_Reg]] = {}
        self._seq = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._listeners.setdefault(event, []).append(_Reg(-int(priority), next(self._seq), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._listeners:
            return
        target = _key(handler)
        self._listeners[event] = [r for r in self._listeners[event] if _key(r.handler) != target]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for reg in sorted(self._listeners.get(event, [])):
            result = reg.handler(*args, **kwargs)
            if _is_awaitable(result):
                await result
