"""Bug: each registration learns from its first call whether it returns an awaitable and trusts that verdict for every later emit.

Breaks: "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts." ... A listener `def maybe(x): return save(x) if x else None` (with `async def save`) is called by `emit("e", 0)` (returns None: marked "not async") and then by `emit("e", 1)`: the coroutine `save(1)` is never awaited, so `save` never runs (and one first returning a coroutine then None makes the later emit fail with `TypeError` on `await None`).
"""

from __future__ import annotations

import bisect
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class _Listener:
    __slots__ = ("handler", "rank", "is_async")

    def __init__(self, handler: Callable[..., Any], rank: tuple[int, int]) -> None:
        self.handler = handler
        self.rank = rank  # (-priority, registration number): smallest runs first
        self.is_async: bool | None = None  # found out on the first call


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._sorted: dict[str, list[_Listener]] = {}
        self._number = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._number += 1
        listener = _Listener(handler, (-int(priority), self._number))
        bisect.insort(self._sorted.setdefault(event, []), listener, key=lambda item: item.rank)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        listeners = self._sorted.get(event)
        if listeners:
            self._sorted[event] = [item for item in listeners if not item.handler == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for listener in tuple(self._sorted.get(event, ())):
            result = listener.handler(*args, **kwargs)
            if listener.is_async is None:
                listener.is_async = inspect.isawaitable(result)
            if listener.is_async:
                await result
