"""Exercise 1: priority_ordering. Priority emitter with a per-listener timeout.

BUG (planted): rule 3 says the awaitables a listener returns "are all awaited,
however long they take". This version awaits each one through
``asyncio.wait_for(result, LISTENER_TIMEOUT)`` (300 s), the "never let one hung
listener block the whole bus" safeguard assistants add unasked: a listener that
legitimately takes longer is cancelled and emit raises ``TimeoutError``.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections import defaultdict
from collections.abc import Callable
from typing import Any, ClassVar

from day25 import EventPriority

Handler = Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    #: Upper bound for one async listener: 5 minutes is generous for real work, but a
    #: stuck coroutine can no longer hang emit (and every later listener) forever.
    LISTENER_TIMEOUT: ClassVar[float] = 300.0

    def __init__(self) -> None:
        # event -> list of (priority, sequence, handler)
        self._registry: dict[str, list[tuple[int, int, Handler]]] = defaultdict(list)
        self._counter = itertools.count()

    def on(
        self,
        event: str,
        handler: Handler,
        priority: int = EventPriority.MEDIUM,
    ) -> Handler:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._registry[event].append((int(priority), next(self._counter), handler))
        return handler

    def off(self, event: str, handler: Handler) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._registry:
            return
        self._registry[event] = [r for r in self._registry[event] if not r[2] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(self._registry.get(event, ()), key=lambda r: (-r[0], r[1]))
        for _, _, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                # Bounded wait: awaits coroutines, Tasks, Futures and __await__ objects alike.
                await asyncio.wait_for(result, timeout=self.LISTENER_TIMEOUT)
        return None
