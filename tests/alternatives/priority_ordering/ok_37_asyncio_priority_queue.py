"""Style: registrations are an append-only log per event, and every emit pours its snapshot into its own ``asyncio.PriorityQueue`` of ``(-priority, order)`` keys and drains it.

Follows: "`on(event, handler, priority=EventPriority.MEDIUM) -> handler`" (appends ``(int(priority), next order, handler)`` and returns ``handler``; ``int()`` makes ``2``, ``MEDIUM``, ``NORMAL`` one priority, and Python ints keep ``2**53 + 1`` above ``2**53``); "a bigger priority runs earlier" / "ties ... in the order they were registered" (the queue pops the smallest ``(-priority, order)`` key; orders are unique so handlers are never compared); "`off` ... removes every registration of that `handler`" ... "compares handlers with `==`" (rebuilds the event's list without the entries whose handler ``== handler``; unknown ones do nothing; ``on`` again gets a new, later order); "an emit works on a **snapshot** ... taken at once" (the queue is filled with ``put_nowait`` before the first ``await``, and ``on``/``off`` replace lists instead of editing them); "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end" ... "once"; "its exception comes out of `emit` at once" (nothing catches it); "each listener gets exactly the positional and keyword arguments"; "`await emit(...)` returns `None`"; "a new `PriorityEmitter` holds nothing of another one's" (all state is on the instance; each emit has its own queue, so nested and concurrent emits do not mix).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from itertools import count
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._log: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._orders = count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entry = (int(priority), next(self._orders), handler)
        self._log[event] = [*self._log.get(event, ()), entry]
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._log.get(event)
        if entries is None:
            return
        kept = [entry for entry in entries if not entry[2] == handler]
        if kept:
            self._log[event] = kept
        else:
            del self._log[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        queue: asyncio.PriorityQueue[tuple[int, int]] = asyncio.PriorityQueue()
        handlers: dict[int, Callable[..., Any]] = {}
        for priority, order, handler in self._log.get(event, ()):
            handlers[order] = handler
            queue.put_nowait((-priority, order))
        while not queue.empty():
            _key, order = queue.get_nowait()
            result = handlers[order](*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
