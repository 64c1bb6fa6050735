"""Bug: `emit` copies its snapshot into one of 4 preallocated buffers taken in turn, so a fifth emit that starts while the first is still running (nested or concurrent) overwrites the first one's snapshot.

Breaks: "That inner emit is an emit like any other (its own snapshot, taken when it starts; its listeners in order)" and "Two emits may also run at the same time (`asyncio.gather(emitter.emit("e", 1), emitter.emit("e", 2))`): each calls every listener of its own snapshot, with its own arguments." ... `asyncio.gather` of emits of 5 events "e0" ... "e4", each with an async listener that sleeps and then a second listener: the emit of "e0" runs the second listener of "e4" instead of its own.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

# Emits in flight at once are few (an emit inside a listener, maybe two side
# by side), so a small ring of reusable snapshot buffers saves a list per emit.
_RING = 4


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._by_event: dict[str, dict[int, list[Callable[..., Any]]]] = {}
        self._ring: list[list[Callable[..., Any]]] = [[] for _ in range(_RING)]
        self._turn = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._by_event.setdefault(event, {}).setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        levels = self._by_event.get(event)
        if not levels:
            return
        for level in list(levels):
            levels[level] = [h for h in levels[level] if not h == handler]
            if not levels[level]:
                del levels[level]

    def _snapshot(self, event: str) -> list[Callable[..., Any]]:
        buffer = self._ring[self._turn]
        self._turn = (self._turn + 1) % _RING
        buffer.clear()
        levels = self._by_event.get(event, {})
        for level in sorted(levels, reverse=True):
            buffer.extend(levels[level])
        return buffer

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for handler in self._snapshot(event):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
