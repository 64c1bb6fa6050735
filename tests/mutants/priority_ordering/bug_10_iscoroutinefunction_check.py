"""BUG: decides whether to await by looking at the handler
(``inspect.iscoroutinefunction(handler)``) instead of at what the call returned.
A callable object with ``async def __call__`` or a plain function/lambda that
returns a coroutine is called but its coroutine is never awaited (its body never
runs; "coroutine was never awaited").

Violates rule 3: "So an `async def`, a plain function that returns a coroutine,
and an object whose `__call__` is `async def` are all awaited; asking
`asyncio.iscoroutinefunction(handler)` is not enough."

(Re-checked under the re-specified text: still a bug; off changed from ``is``
to ``==`` so that this stays the only mistake.)
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
           priority: EventPriority = EventPriority.MEDIUM) -> Callable[..., Any]:
        self._listeners.setdefault(event, []).append((int(priority), next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if entries:
            entries[:] = [e for e in entries if e[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for _, _, handler in sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1])):
            if inspect.iscoroutinefunction(handler):
                await handler(*args, **kwargs)
            else:
                handler(*args, **kwargs)
