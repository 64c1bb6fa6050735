"""Bug: off takes an early return when the handler is not in an emitter-wide index of known handlers, and clears the handler from that index after removing it from one event, so a later off of the same handler on another event does nothing.

Breaks: "off(event, handler): removes every registration of that handler from event" (and "Events are independent").
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """One sorted list of (negative priority, sequence, handler) per event, plus a fast-path index."""

    def __init__(self) -> None:
        self._listeners: dict[Any, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._known: list[Callable[..., Any]] = []  # every handler ever registered (fast path for off)
        self._seq = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        entries = self._listeners.setdefault(event, [])
        entries.append((-int(priority), next(self._seq), handler))
        entries.sort(key=lambda e: (e[0], e[1]))
        if handler not in self._known:
            self._known.append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        if handler not in self._known:
            return  # never registered: nothing to do
        if event in self._listeners:
            self._listeners[event] = [e for e in self._listeners[event] if e[2] != handler]
        self._known = [h for h in self._known if h != handler]

    async def emit(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        snapshot = list(self._listeners.get(event, ()))
        for _, _, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
