"""Style: each event owns a collections.deque kept in run order; on() walks it from the right to find its slot and inserts there on a fresh copy, so a deque an emit has taken is never edited; emit drains a tuple snapshot through an explicit iterator with a while loop.

Follows: "a bigger priority runs earlier" and "listeners of the same priority run in the order they were registered" (insert after the last entry whose priority is >= the new one: behind its ties, ahead of lower ones), "Any `int` is a priority too ... A priority is its number" (`int(priority)` compared exactly, any size), "`off` compares handlers with `==`" and "removes every registration" (a new deque without the `==` matches; no match, no event: nothing happens), "`on` again is a new registration ... after the listeners of its priority registered before it" (it is inserted afresh), "an emit works on a **snapshot** ... taken at once" (`tuple(deque)` before the first await), "awaited to the end before the next listener starts" and "It is awaited once" (`inspect.isawaitable` then one `await`), "its exception comes out of `emit` at once" (no try), "An event is its exact name" (plain dict keys), "`await emit(...)` returns `None`".
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

_Slot = tuple[int, Callable[..., Any]]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[_Slot]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        level = int(priority)
        queue = deque(self._queues.get(event, ()))
        position = len(queue)
        while position > 0 and queue[position - 1][0] < level:
            position -= 1
        queue.insert(position, (level, handler))
        self._queues[event] = queue
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        queue = self._queues.get(event)
        if queue is None:
            return
        self._queues[event] = deque(slot for slot in queue if not slot[1] == handler)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        pending = iter(tuple(self._queues.get(event, ())))
        slot = next(pending, None)
        while slot is not None:
            returned = slot[1](*args, **kwargs)
            if inspect.isawaitable(returned):
                await returned
            slot = next(pending, None)
        return None
