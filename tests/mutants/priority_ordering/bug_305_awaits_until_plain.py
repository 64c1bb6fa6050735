"""Exercise 1: priority_ordering. Sorted snapshot per emit; a listener's result is awaited until it is a plain value.

BUG (planted): "It is awaited once: what that gives back is a value, even when it is awaitable too." This version loops ``while _awaitable(result): result = await result``, so that a plain function returning a coroutine "and an async def returning one" are both handled the same way; a student writes the loop to be thorough. An ``async def`` listener that returns a coroutine or Task as its value (e.g. a job it built for someone else to run or cancel) has that returned job run by ``emit``: its side effects happen inside the emit, and a Task it returned is awaited to its end before the next listener runs.
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
        if entries:
            self._listeners[event] = [e for e in entries if not e[2] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        for _priority, _sequence, listener in snapshot:
            result = listener(*args, **kwargs)
            while _awaitable(result):
                result = await result
