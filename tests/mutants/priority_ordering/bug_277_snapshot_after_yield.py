"""Exercise 1: priority_ordering. Per-event buckets by priority; ``emit`` first yields to the event loop, then copies the listeners and runs them.

BUG (planted): "So does other code that calls them once the emit started (while it waits
for a listener): the snapshot is taken at once, before the emit first waits for
anything." This version opens ``emit`` with ``await asyncio.sleep(0)`` (so that an emit
of sync listeners still lets other tasks run) and only then copies the listeners, so the
snapshot is taken after the emit started: an ``on`` or ``off`` that other code makes
while the emit is parked on that first await changes this emit (a listener added then
runs, one removed then is skipped). A student writes it because listeners calling
``on``/``off`` still count from the next emit, which is all the common case shows.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

Handler = Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._buckets: dict[str, dict[int, list[Handler]]] = {}

    def on(
        self,
        event: str,
        handler: Handler,
        priority: int = EventPriority.MEDIUM,
    ) -> Handler:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._buckets.setdefault(event, {}).setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Handler) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        buckets = self._buckets.get(event, {})
        for priority, handlers in list(buckets.items()):
            buckets[priority] = [h for h in handlers if not h == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        await asyncio.sleep(0)  # be a good citizen: let other tasks run first
        buckets = self._buckets.get(event, {})
        snapshot = [h for p in sorted(buckets, reverse=True) for h in buckets[p]]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
