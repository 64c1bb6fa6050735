"""Bug: the queue of listeners still to run is kept on the emitter per event, so an emit of the same event inside a listener replaces and drains it and the outer emit stops early.

Breaks: "a listener may await emitter.emit(...), of another event or of the same one. That inner emit is an emit like any other ... and runs to its end before the outer emit goes on" (rule 11).
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Registrations per event; emit drains a deque of pending listeners."""

    def __init__(self) -> None:
        self._registry: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._pending: dict[str, deque[Callable[..., Any]]] = {}
        self._stamp = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._stamp += 1
        self._registry.setdefault(event, []).append((-int(priority), self._stamp, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        regs = self._registry.get(event)
        if regs is not None:
            self._registry[event] = [r for r in regs if r[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        ordered = sorted(self._registry.get(event, []), key=lambda r: (r[0], r[1]))
        self._pending[event] = deque(r[2] for r in ordered)
        try:
            while self._pending.get(event):
                handler = self._pending[event].popleft()
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            self._pending.pop(event, None)
