"""Bug: ``on`` while no emit runs inserts with ``bisect.insort`` after the equal priorities, but its copy-on-write twin (used while an emit runs) builds the new tuple as ``(new, *old)`` and stable-sorts it by priority, which puts the new registration before the earlier ones of its priority.

Breaks: "Ties: listeners of the same priority run in the order they were registered." ... ``on("e", a)`` and a HIGH listener that calls ``on("e", b)``: the emits after the first run HIGH, b, a instead of HIGH, a, b (the same ``on`` outside an emit puts b after a).
"""

from __future__ import annotations

import bisect
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _rank(pair: tuple[int, Callable[..., Any]]) -> int:
    return -pair[0]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, tuple[tuple[int, Callable[..., Any]], ...]] = {}
        self._live_emits = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        pair = (int(priority), handler)
        current = self._listeners.get(event, ())
        if self._live_emits:
            # an emit is iterating a tuple: hand it a fresh, sorted one
            self._listeners[event] = tuple(sorted((pair, *current), key=_rank))
        else:
            rows = list(current)
            bisect.insort_right(rows, pair, key=_rank)
            self._listeners[event] = tuple(rows)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        current = self._listeners.get(event)
        if current:
            self._listeners[event] = tuple(p for p in current if not p[1] == handler)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = self._listeners.get(event, ())
        self._live_emits += 1
        try:
            for _, handler in snapshot:
                answer = handler(*args, **kwargs)
                if inspect.isawaitable(answer):
                    await answer
        finally:
            self._live_emits -= 1
