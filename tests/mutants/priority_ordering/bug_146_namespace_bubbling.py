"""Bug: like EventEmitter2 namespaces or DOM bubbling, an emit of a ":"-separated name such as "ui:click" also calls, after its own listeners, the listeners of its parent names ("ui").

Breaks: "An event is its exact name" and "a listener of `"*"` or `"ui:*"` hears only an emit of that very name." ... With on("ui", a) and on("ui:click", b), `await emit("ui:click", 1)` calls b(1) and then a(1); only b(1) may run (a listener of "ui" hears only emits of "ui").
"""

from __future__ import annotations

import heapq
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

SEPARATOR = ":"


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._serial = 0
        # event -> heap of [-priority, serial, handler]
        self._heaps: dict[str, list[list[Any]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._serial += 1
        heapq.heappush(self._heaps.setdefault(event, []), [-int(priority), self._serial, handler])
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        heap = self._heaps.get(event)
        if heap is None:
            return
        heap[:] = [entry for entry in heap if not entry[2] == handler]
        heapq.heapify(heap)
        if not heap:
            del self._heaps[event]

    def _ordered(self, event: str) -> list[Callable[..., Any]]:
        return [entry[2] for entry in sorted(self._heaps.get(event, []), key=lambda e: e[:2])]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        # "a:b:c" is heard on "a:b:c", then on "a:b", then on "a"
        parts = event.split(SEPARATOR)
        names = [SEPARATOR.join(parts[:n]) for n in range(len(parts), 0, -1)]
        plan = [handler for name in names for handler in self._ordered(name)]
        for handler in plan:
            returned = handler(*args, **kwargs)
            if inspect.isawaitable(returned):
                await returned
