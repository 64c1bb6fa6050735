"""Bug: every listener gets a deep copy of the arguments (to protect listeners from each other), so a change one listener makes is not seen by the next.

Breaks: "Arguments: each listener gets exactly the positional and keyword arguments given to
`emit`, however many".
"""

from __future__ import annotations

import copy
import heapq
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """A heap of (-priority, seq, handler) per event; emit walks a sorted copy."""

    def __init__(self) -> None:
        self._heaps: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._counter = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        heapq.heappush(self._heaps.setdefault(event, []), (-int(priority), next(self._counter), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        heap = self._heaps.get(event)
        if heap is None:
            return
        kept = [item for item in heap if item[2] != handler]
        heapq.heapify(kept)
        self._heaps[event] = kept

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        # seq numbers are unique, so the handlers themselves are never compared
        for _, _, handler in sorted(self._heaps.get(event, [])):
            call_args = copy.deepcopy(args)
            call_kwargs = copy.deepcopy(kwargs)
            result = handler(*call_args, **call_kwargs)
            if inspect.isawaitable(result):
                await result
