"""BUG: awaits what a listener returns only if it is a coroutine
(``inspect.iscoroutine(result)``): an ``async def``, a lambda returning a
coroutine and an async ``__call__`` work, but a returned Future, Task or any
other object with ``__await__`` is not awaited (emit goes on at once, and may
return before it finished).

Violates rule 3: "If what a listener *returns* is awaitable (`inspect.isawaitable`),
it is awaited to the end before the next listener starts."
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._order = itertools.count()

    def on(self, event: str, handler: Callable[..., Any],
           priority: int = EventPriority.MEDIUM) -> Callable[..., Any]:
        self._listeners.setdefault(event, []).append((int(priority), next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if entries:
            entries[:] = [e for e in entries if e[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        ordered = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        for _, _, handler in ordered:
            result = handler(*args, **kwargs)
            if inspect.iscoroutine(result):
                await result
