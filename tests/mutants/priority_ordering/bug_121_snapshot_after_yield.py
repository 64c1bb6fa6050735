"""Bug: emit first yields to the event loop (`await asyncio.sleep(0)`, "let pending registrations settle") and only then takes its snapshot, so `on`/`off` calls made after the emit started still count for it.

Breaks: "an emit works on a **snapshot** of the listeners taken when it starts." and "That inner emit is an emit like any other (its own snapshot, taken when it starts; its listeners in order)" ... `task = asyncio.create_task(emitter.emit("e", 1))`; `await asyncio.sleep(0)` (the emit has started); `emitter.on("e", late)`; `await task` calls `late(1)`, and an `off` made at that point likewise removes a listener from the running emit.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> priority -> handlers in registration order
        self._buckets: dict[str, dict[int, list[Callable[..., Any]]]] = defaultdict(dict)

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._buckets[event].setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        levels = self._buckets.get(event)
        if not levels:
            return
        for level in list(levels):
            kept = [h for h in levels[level] if not h == handler]
            if kept:
                levels[level] = kept
            else:
                del levels[level]

    def _snapshot(self, event: str) -> list[Callable[..., Any]]:
        levels = self._buckets.get(event, {})
        return [h for level in sorted(levels, reverse=True) for h in levels[level]]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        await asyncio.sleep(0)  # let registrations made just before this emit settle
        for handler in self._snapshot(event):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
