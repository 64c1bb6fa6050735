"""Bug: emits run from one work queue per task (an inner emit puts its calls in front), and an inner emit that raises leaves its unrun calls in that queue, so the outer emit runs them as its own.

Breaks: "its exception comes out of `emit` at once, and the listeners after it do not run in that emit" and "That inner emit is an emit like any other (its own snapshot, taken when it starts; its listeners in order) and runs to its end before the outer emit goes on." ... A HIGH listener `guard` does `try: await em.emit("inner") except ValueError: pass`; "inner" has `boom` (raises ValueError) then `skipped`, and "e" has `after` (LOW): `await em.emit("e")` runs guard, boom, skipped, and never `after`, instead of guard, boom, after.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections import deque
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> tuple of (sort key, handler), kept sorted; replaced on every change
        self._table: dict[str, tuple[tuple[tuple[int, int], Callable[..., Any]], ...]] = {}
        self._numbers = itertools.count()
        # pending calls of the emits running in each task (inner emits at the front)
        self._work: dict[asyncio.Task[Any] | None, deque[Call]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entry = ((-int(priority), next(self._numbers)), handler)
        self._table[event] = tuple(sorted((*self._table.get(event, ()), entry),
                                          key=lambda item: item[0]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._table:
            return
        kept = tuple(item for item in self._table[event] if not item[1] == handler)
        if kept:
            self._table[event] = kept
        else:
            del self._table[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        calls = [(handler, args, kwargs) for _, handler in self._table.get(event, ())]
        task = asyncio.current_task()
        queue = self._work.get(task)
        outermost = queue is None
        if outermost:
            queue = self._work[task] = deque()
        # an inner emit's calls go first: they run to the end before the outer emit goes on
        queue.extendleft(reversed(calls))
        remaining = len(calls)
        try:
            while remaining:
                handler, call_args, call_kwargs = queue.popleft()
                remaining -= 1
                result = handler(*call_args, **call_kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            if outermost:
                del self._work[task]
