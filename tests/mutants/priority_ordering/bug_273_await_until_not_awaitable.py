"""Exercise 1: priority_ordering. Priority emitter that fully resolves awaitables.

BUG (planted): rule 3 says "It is awaited once: what that gives back is a value,
even when it is awaitable too." This version loops ``while inspect.isawaitable(result):
result = await result`` ("unwrap nested awaitables, e.g. a coroutine that returns a
Task"), so an awaitable a listener's coroutine *returns* gets awaited (run) as well.
"""

from __future__ import annotations

import bisect
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> (sort keys, handlers) kept in step; key = (-priority, registration count)
        self._keys: dict[str, list[tuple[int, int]]] = {}
        self._handlers: dict[str, list[Callable[..., Any]]] = {}
        self._count = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._count += 1
        key = (-int(priority), self._count)
        keys = self._keys.setdefault(event, [])
        handlers = self._handlers.setdefault(event, [])
        index = bisect.bisect(keys, key)
        keys.insert(index, key)
        handlers.insert(index, handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._handlers:
            return
        pairs = [
            (k, h) for k, h in zip(self._keys[event], self._handlers[event]) if not h == handler
        ]
        self._keys[event] = [k for k, _ in pairs]
        self._handlers[event] = [h for _, h in pairs]

    @staticmethod
    async def _resolve(value: Any) -> Any:
        # Await until we hold a real value (a coroutine may hand back a Task, etc.).
        while inspect.isawaitable(value):
            value = await value
        return value

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for handler in list(self._handlers.get(event, [])):
            await self._resolve(handler(*args, **kwargs))
