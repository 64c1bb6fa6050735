"""BUG: wraps every emit in one ``asyncio.Lock`` "so that listeners run one at a
time" even across emits. An emit started from inside a listener waits for the
lock its own outer emit holds: it never runs, and the outer emit hangs for ever.

Violates the `reentrant` kind of check: "an emit inside a listener runs to its end
first" (and rule 3: "`emit` returns only after the last listener finished").
"""

from __future__ import annotations

import asyncio
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
        self._lock = asyncio.Lock()

    def on(self, event: str, handler: Callable[..., Any],
           priority: int = EventPriority.MEDIUM) -> Callable[..., Any]:
        self._listeners.setdefault(event, []).append((int(priority), next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if entries:
            entries[:] = [e for e in entries if e[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        async with self._lock:
            ordered = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
            for _, _, handler in ordered:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
