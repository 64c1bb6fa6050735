"""Bug: when an event has exactly one listener, emit takes a fast path that calls it and awaits the result only if `asyncio.iscoroutine` says so, skipping the `inspect.isawaitable` check the general path makes.

Breaks: "a plain function that returns an `asyncio.Task` or `Future` (awaitable, but not a coroutine ...), one that returns an object of a class with `__await__` ... are all awaited, however long they take; asking ... `asyncio.iscoroutine(result)` is not enough." ... A lone listener that returns `asyncio.create_task(work())` (or a Future, or an `__await__` object) is not awaited: `emit` returns before `work` finished; a lone listener returning a plain generator makes `emit` raise `TypeError`.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> {priority: [handler, ...]}
        self._table: dict[str, dict[int, list[Callable[..., Any]]]] = {}
        # event -> number of registrations, to spot the one-listener case cheaply
        self._sizes: dict[str, int] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        levels = self._table.setdefault(event, {})
        levels.setdefault(int(priority), []).append(handler)
        self._sizes[event] = self._sizes.get(event, 0) + 1
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        levels = self._table.get(event)
        if not levels:
            return
        size = 0
        for level in list(levels):
            kept = [h for h in levels[level] if not h == handler]
            if kept:
                levels[level] = kept
                size += len(kept)
            else:
                del levels[level]
        if size:
            self._sizes[event] = size
        else:
            del self._table[event]
            del self._sizes[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        levels = self._table.get(event)
        if not levels:
            return None
        if self._sizes[event] == 1:
            # fast path: one listener, nothing to order or copy
            (only,) = next(iter(levels.values()))
            result = only(*args, **kwargs)
            if asyncio.iscoroutine(result):
                await result
            return None
        snapshot = [h for level in sorted(levels, reverse=True) for h in levels[level]]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
