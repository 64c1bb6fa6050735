"""Exercise 1: priority_ordering. Priority emitter that yields to the loop first.

BUG (planted): rule 7 says "So does other code that calls them once the emit
started (while it waits for a listener): the snapshot is taken at once, before the
emit first waits for anything." This version does ``await asyncio.sleep(0)`` at the
start of ``emit`` ("be a good asyncio citizen, let other tasks run") and only then
copies the listeners, so ``on``/``off`` from other tasks in that gap leak into this emit.
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
        self._handlers: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._seq = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entries = self._handlers.setdefault(event, [])
        entries.append((-int(priority), next(self._seq), handler))
        entries.sort(key=lambda entry: entry[:2])
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event in self._handlers:
            self._handlers[event] = [e for e in self._handlers[event] if not e[2] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        # Yield control once so a burst of emits does not starve other tasks.
        await asyncio.sleep(0)
        # Snapshot: listeners added or removed by a listener count from the next emit.
        snapshot = list(self._handlers.get(event, []))
        for _, _, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
