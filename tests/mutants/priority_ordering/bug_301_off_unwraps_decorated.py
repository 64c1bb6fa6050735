"""Exercise 1: priority_ordering. Sorted snapshot per emit; off also recognises handlers through functools.wraps.

BUG (planted): "`off(event, handler)` removes all of its registrations on that event, and no other handler (not even one made from it with `functools.wraps`, whose `__wrapped__` is `handler`" This version's ``off`` compares ``getattr(h, "__wrapped__", h) == handler`` as well, so that ``off(event, fn)`` also removes a registration of a logging or retry wrapper around ``fn``; a student adds it after once failing to remove a decorated listener. Another part of the program that registered its own ``@wraps(fn)`` wrapper finds it silently gone after someone else's ``off(event, fn)``.
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


def _same_handler(registered: Callable[..., Any], handler: Callable[..., Any]) -> bool:
    if registered == handler:
        return True
    # a decorated listener (functools.wraps) still "is" the function it wraps
    return getattr(registered, "__wrapped__", None) == handler


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
        if entries:
            self._listeners[event] = [e for e in entries if not _same_handler(e[2], handler)]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        for _priority, _sequence, listener in snapshot:
            result = listener(*args, **kwargs)
            if _awaitable(result):
                await result
