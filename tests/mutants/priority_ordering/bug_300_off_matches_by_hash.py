"""Exercise 1: priority_ordering. Sorted snapshot per emit; off filters against a set of the handlers to drop.

BUG (planted): "The same holds for every handler, not only Python's bound methods: `lst.append` of one list, or an object with its own `__eq__` (even one that cannot be hashed, as a class that defines `__eq__` alone cannot)." This version's ``off`` puts the handler into a set and tests ``entry in doomed``, which works for functions and bound methods (they hash) but raises ``TypeError: unhashable type`` to the caller of ``off`` for a callable object whose class defines ``__eq__`` only; a student reaches for a set because "membership tests are O(1)".
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from day25 import EventPriority


_CO_ITERABLE_COROUTINE = 0x100  # what @types.coroutine sets on a generator's code


def _awaitable(value: Any) -> bool:
    """Awaitable as the page means it: has ``__await__``, or is a generator-based coroutine."""
    if isinstance(value, Awaitable):
        return True
    code = getattr(value, "gi_code", None)
    return code is not None and bool(code.co_flags & _CO_ITERABLE_COROUTINE)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._sequence = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._listeners.setdefault(event, []).append((int(priority), next(self._sequence), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if not entries:
            return
        doomed = {handler}  # bound methods hash and compare by (function, object): == semantics
        self._listeners[event] = [e for e in entries if e[2] not in doomed]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        for _priority, _sequence, listener in snapshot:
            result = listener(*args, **kwargs)
            if _awaitable(result):
                await result
