"""Bug: awaitables that are already a Future or Task are not awaited (thought to run by themselves).

Breaks: "So an `async def`, a plain function that returns a coroutine, a plain function that
returns an `asyncio.Task` or `Future` (awaitable, but not a coroutine), and an object whose
`__call__` is `async def` are all awaited".
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Registrations kept as small dicts; sorted by (-priority, order) at emit."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[dict[str, Any]]] = {}
        self._order = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._order += 1
        self._listeners.setdefault(event, []).append(
            {"handler": handler, "priority": int(priority), "order": self._order}
        )
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        if event in self._listeners:
            self._listeners[event] = [
                entry for entry in self._listeners[event] if entry["handler"] != handler
            ]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        entries = sorted(
            self._listeners.get(event, []), key=lambda e: (-e["priority"], e["order"])
        )
        for entry in entries:
            result = entry["handler"](*args, **kwargs)
            # a Task or Future is already scheduled on the loop: it finishes on its own
            if inspect.isawaitable(result) and not isinstance(result, asyncio.Future):
                await result
