"""Style: per event a dict of priority buckets (plain lists), walked from the biggest key down."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> {priority as a plain int -> handlers in registration order}
        self._buckets: dict[str, dict[int, list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        levels = self._buckets.setdefault(event, {})
        levels.setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        levels = self._buckets.get(event)
        if not levels:
            return
        rebuilt: dict[int, list[Callable[..., Any]]] = {}
        for level, handlers in levels.items():
            remaining = [h for h in handlers if h != handler]
            if remaining:
                rebuilt[level] = remaining
        self._buckets[event] = rebuilt

    def _in_order(self, event: str) -> list[Callable[..., Any]]:
        levels = self._buckets.get(event, {})
        return [h for level in sorted(levels, reverse=True) for h in levels[level]]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        pending = self._in_order(event)  # a fresh list: the snapshot, taken before any wait
        index = 0
        while index < len(pending):
            result = pending[index](*args, **kwargs)
            index += 1
            if inspect.isawaitable(result):
                await result
