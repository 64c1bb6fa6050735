"""Bug: on/off calls made during an emit are queued in two separate lists and applied offs first, then ons, so an on followed by an off of the same handler in one emit leaves it registered.

Breaks: "A listener that calls `on` or `off` while the emit runs changes the *next* emit, not this one" (the next emit must see the result of those calls in the order they were made: on then off leaves nothing; rule 5 "After `off`, nothing of that handler is left on that event").
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Sorted per-event lists, mutated only when no emit is running."""

    def __init__(self) -> None:
        self._listeners: defaultdict[str, list[tuple[int, int, Callable[..., Any]]]] = defaultdict(list)
        self._counter = 0
        self._running = 0
        self._queued_on: list[tuple[str, Callable[..., Any], int]] = []
        self._queued_off: list[tuple[str, Callable[..., Any]]] = []

    def _add(self, event: str, handler: Callable[..., Any], priority: int) -> None:
        self._counter += 1
        bucket = self._listeners[event]
        bucket.append((int(priority), self._counter, handler))
        bucket.sort(key=lambda item: (-item[0], item[1]))

    def _remove(self, event: str, handler: Callable[..., Any]) -> None:
        if event in self._listeners:
            self._listeners[event] = [i for i in self._listeners[event] if i[2] != handler]

    def _apply_queued(self) -> None:
        offs, self._queued_off = self._queued_off, []
        ons, self._queued_on = self._queued_on, []
        for event, handler in offs:
            self._remove(event, handler)
        for event, handler, priority in ons:
            self._add(event, handler, priority)

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        if self._running:
            self._queued_on.append((event, handler, int(priority)))
        else:
            self._add(event, handler, priority)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        if self._running:
            self._queued_off.append((event, handler))
        else:
            self._remove(event, handler)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        # an inner emit starts from everything registered so far
        self._apply_queued()
        listeners = list(self._listeners.get(event, ()))
        self._running += 1
        try:
            for _, _, handler in listeners:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            self._running -= 1
            if not self._running:
                self._apply_queued()
