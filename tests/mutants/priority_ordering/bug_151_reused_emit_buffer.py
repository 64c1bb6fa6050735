"""Bug: each event keeps one reusable buffer that every emit of it clears and refills in place, so an emit of the same event started while another is running (nested or concurrent) overwrites the running emit's snapshot with the listeners as they are now.

Breaks: "an emit works on a **snapshot** of the listeners taken when it starts." and "That inner emit is an emit like any other (its own snapshot, taken when it starts; its listeners in order)" ... If listener `a` (HIGH) calls `off("e", v)` and then, once, `await emitter.emit("e")`, the outer emit never calls `v` (LOW) although it was in its snapshot: the inner emit refilled the shared buffer without it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> {priority: [handler, ...]} (each bucket in registration order)
        self._buckets: dict[str, dict[int, list[Callable[..., Any]]]] = {}
        # event -> the list emit flattens the buckets into; kept to avoid
        # allocating a fresh list on every emit
        self._buffers: dict[str, list[Callable[..., Any]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        levels = self._buckets.setdefault(event, {})
        level = int(priority)
        # a new list each time, so a flattened copy never changes under us
        levels[level] = [*levels.get(level, ()), handler]
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
        if not levels:
            del self._buckets[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        levels = self._buckets.get(event)
        if not levels:
            return None
        buffer = self._buffers.setdefault(event, [])
        buffer.clear()
        for level in sorted(levels, reverse=True):
            buffer.extend(levels[level])
        index = 0
        while index < len(buffer):
            handler = buffer[index]
            index += 1
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
