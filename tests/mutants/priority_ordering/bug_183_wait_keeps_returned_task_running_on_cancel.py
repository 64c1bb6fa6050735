"""Bug: a Task or Future that a listener returns is waited for with `asyncio.wait`, which does not pass a cancellation on, so when the emit is cancelled the listener's task keeps running (and any emit inside it keeps calling listeners).

Breaks: "A cancellation comes out the same way: an emit cancelled while it waits for a listener (an `asyncio.wait_for` around it that runs out) lets the `CancelledError` out and runs no more listeners" ... A listener `lambda: asyncio.ensure_future(emitter.emit("inner"))` whose inner listeners are `slow` (sleeps 0.1 s) then `late`: `await asyncio.wait_for(emitter.emit("e"), 0.05)` raises TimeoutError, yet `slow` finishes and `late` runs afterwards, after the emit was cancelled.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


async def _settle(result: Any) -> None:
    """Await whatever a listener gave back, to the end."""
    if asyncio.isfuture(result):
        # a Task or Future may be done already: wait for it, then take its outcome
        # (its result, or its exception raised here)
        await asyncio.wait({result})
        result.result()
    elif inspect.isawaitable(result):
        await result


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> {priority: [handler, ...]} in registration order
        self._buckets: dict[str, dict[int, list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        levels = self._buckets.setdefault(event, {})
        level = int(priority)
        # replace, never mutate: a running emit keeps the list it copied
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

    def _snapshot(self, event: str) -> list[Callable[..., Any]]:
        levels = self._buckets.get(event, {})
        return [h for level in sorted(levels, reverse=True) for h in levels[level]]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for handler in self._snapshot(event):
            await _settle(handler(*args, **kwargs))
