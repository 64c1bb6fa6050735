"""Exercise 1: priority_ordering. A heap of (-priority, number, handler) popped at emit, EAFP await.

BUG (planted): "A listener that raises: its exception comes out of `emit` at once, and the
listeners after it do not run in that emit" (and rule 4: "a listener whose parameters do not
fit raises Python's `TypeError`"). The tidy-up replaced "call, then await if awaitable" by
EAFP, `try: await handler(...)` / `except TypeError: pass`, since awaiting the `None` of a
plain listener raises `TypeError`. The `try` now also covers the call itself, so a listener's
own `TypeError` (or one from arguments that do not fit) is swallowed and the emit goes on.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._registry: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._counter = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._registry.setdefault(event, []).append((-int(priority), next(self._counter), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        kept = [item for item in self._registry.get(event, []) if not item[2] == handler]
        if kept:
            self._registry[event] = kept
        else:
            self._registry.pop(event, None)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        heap = list(self._registry.get(event, []))  # the snapshot
        heapq.heapify(heap)
        while heap:
            _rank, _number, handler = heapq.heappop(heap)
            try:
                await handler(*args, **kwargs)
            except TypeError:
                pass  # a plain listener returned a value that is not awaitable: done
