"""Bug: the running emit keeps its to-do queue on the instance (saved and restored around each emit, which handles nesting), so two emits in flight at the same time (``asyncio.gather``, ``create_task``) pop from each other's queue.

Breaks: "**Changes during an emit**: an emit works on a **snapshot** of the listeners taken when it starts." and "`async emit(event, *args, **kwargs) -> None` | calls every listener of `event` with `*args, **kwargs`" ... With two async listeners `a1`, `a2` on "a" and `b1`, `b2` on "b" (each first awaits `asyncio.sleep(0)`), `await asyncio.gather(emit("a", 1), emit("b", 2))` calls `b2(1)` from inside the "a" emit (with "a"'s argument) and never calls `b2(2)`.
"""

from __future__ import annotations

import inspect
import itertools
from collections import deque
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._table: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._order = itertools.count()
        self._todo: deque[Callable[..., Any]] = deque()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._table.setdefault(event, []).append((int(priority), next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._table.get(event)
        if entries:
            entries[:] = [e for e in entries if not e[2] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        ordered = sorted(self._table.get(event, ()), key=lambda e: (-e[0], e[1]))
        outer = self._todo  # an emit inside a listener gets its own queue
        self._todo = deque(handler for _, _, handler in ordered)
        try:
            while self._todo:
                handler = self._todo.popleft()
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            self._todo = outer
