"""Bug: what a listener returns is wrapped in a task and polled until done (the lessons' `wait_until` loop), so cancelling the emit stops the polling but not the task.

Breaks: "an emit cancelled while it waits for a listener (an `asyncio.wait_for` around it that runs out) lets the `CancelledError` out and runs no more listeners" ... "What it was awaiting is cancelled with it, as `await` does: a Task a listener returned does not go on running once the emit was cancelled." ... A listener returning `asyncio.create_task(work())`, emit under `asyncio.wait_for(..., 0.05)`: the CancelledError comes out, but `work()` keeps running to its end (an `async def` listener's coroutine too).

Carried over from notebooks/06_websocket_connection_events.ipynb (and 09), cell 1:
`wait_until(check)` polls `while not check(): await asyncio.sleep(0.01)`; the student
kept its loop and dropped its deadline, since a listener may take however long it takes.
"""

from __future__ import annotations

import asyncio
import heapq
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


async def _wait_until_done(awaitable: Any) -> Any:
    """Await anything awaitable, lesson style: start it, then poll until it is done."""
    task = asyncio.ensure_future(awaitable)
    while not task.done():
        await asyncio.sleep(0.01)
    return task.result()  # its value, or its exception (CancelledError included)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._heaps: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._n = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._n += 1
        heapq.heappush(self._heaps.setdefault(event, []), (-int(priority), self._n, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        heap = self._heaps.get(event)
        if heap:
            kept = [entry for entry in heap if not entry[2] == handler]
            heapq.heapify(kept)
            self._heaps[event] = kept

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        plan = [handler for _, _, handler in sorted(self._heaps.get(event, ()))]
        for handler in plan:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await _wait_until_done(result)
