"""Bug: when a listener returns a Task or Future that was cancelled by someone other than this emit, awaiting it is treated as "finished" and the emit goes on to the next listener instead of letting the CancelledError out.

Breaks: "A `CancelledError` a listener raises is its exception like any other: it comes out, and the listeners after it do not run." (read as covering only a listener that raises) ... settled by rule 3: "a plain function that returns an `asyncio.Task` or `Future` (awaitable, but not a coroutine; even one already done: awaiting it gives its result or raises its exception)" and "as `await` does". A listener that returns a Task it already cancelled (or one that ends with CancelledError) must make emit raise CancelledError and skip the later listeners; here the later listeners run and emit returns None.
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
        # event -> {priority: [handler, ...]} ; each level keeps registration order
        self._levels: dict[str, dict[int, list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        levels = self._levels.setdefault(event, {})
        levels[int(priority)] = [*levels.get(int(priority), []), handler]
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        levels = self._levels.get(event)
        if not levels:
            return
        for level in list(levels):
            kept = [h for h in levels[level] if not h == handler]
            if kept:
                levels[level] = kept
            else:
                del levels[level]

    @staticmethod
    async def _settle(outcome: Any) -> None:
        """Wait for what a listener handed back, however long it takes."""
        if isinstance(outcome, asyncio.Future):
            try:
                await outcome
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if outcome.cancelled() and task is not None and not task.cancelling():
                    # Nobody cancelled *us*: the task it gave us was stopped elsewhere,
                    # so there is nothing left to wait for.
                    return
                raise
        else:
            await outcome

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        levels = self._levels.get(event, {})
        plan = [h for level in sorted(levels, reverse=True) for h in levels[level]]
        for handler in plan:
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await self._settle(outcome)
