"""Bug: the listeners still to run are kept in self._pending[event]; an inner emit of the same event replaces and then drops that queue, so the outer emit stops early.

Breaks: "a listener may await emitter.emit(...), of another event or of the same one. That inner emit is an emit like any other ... and runs to its end before the outer emit goes on."
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Sorted lists per event; the running emit's queue is kept on the instance."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._pending: dict[str, deque[Callable[..., Any]]] = {}
        self._count = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._count += 1
        lst = self._listeners.setdefault(event, [])
        lst.append((int(priority), self._count, handler))
        lst.sort(key=lambda item: (-item[0], item[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        lst = self._listeners.get(event)
        if lst is not None:
            lst[:] = [item for item in lst if not (item[2] == handler)]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        # snapshot of the current order; what is left to run lives in _pending
        self._pending[event] = deque(item[2] for item in self._listeners.get(event, ()))
        try:
            while self._pending.get(event):
                handler = self._pending[event].popleft()
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            self._pending.pop(event, None)
