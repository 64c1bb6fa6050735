"""Bug: a raising listener sets an emitter-wide stop flag; if it happened in an inner emit whose error the calling listener caught, the outer emit silently stops too.

Breaks: "That inner emit is an emit like any other (its own snapshot, taken when it starts; its listeners in order) and runs to its end before the outer emit goes on."
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Sorted list per event; a stop flag makes a raising listener end the emit."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._registered = 0
        self._stopped = False

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._registered += 1
        entries = self._listeners.setdefault(event, [])
        entries.append((int(priority), self._registered, handler))
        entries.sort(key=lambda e: (-e[0], e[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        if event in self._listeners:
            self._listeners[event] = [
                e for e in self._listeners[event] if e[2] != handler
            ]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        self._stopped = False
        snapshot = list(self._listeners.get(event, ()))
        for _, _, handler in snapshot:
            if self._stopped:
                break
            try:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                self._stopped = True
                raise
