"""Bug: like jQuery's `return false` (or a DOM stopImmediatePropagation), a listener that returns False, or whose awaited result is False, stops the emit: the listeners after it do not run.

Breaks: "`emit` calls one listener at a time. If what a listener *returns* is awaitable ... It is awaited once: what that gives back is a value" and "calls every listener of `event`" ... With on("e", check, HIGH) where check returns False (e.g. `lambda x: x in seen`, or an async def returning False) and on("e", store), `await emit("e", 1)` calls check(1) only; store(1) must run too.
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
        self._counter = 0
        self._keys: dict[str, list[tuple[int, int]]] = {}
        self._handlers: dict[str, list[Callable[..., Any]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._counter += 1
        key = (-int(priority), self._counter)
        keys = self._keys.setdefault(event, [])
        handlers = self._handlers.setdefault(event, [])
        index = bisect.bisect_right(keys, key)
        keys.insert(index, key)
        handlers.insert(index, handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        handlers = self._handlers.get(event)
        if not handlers:
            return
        keep = [i for i, h in enumerate(handlers) if not h == handler]
        self._keys[event] = [self._keys[event][i] for i in keep]
        self._handlers[event] = [handlers[i] for i in keep]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for handler in tuple(self._handlers.get(event, ())):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
            if result is False:
                break  # the listener cancelled the rest of this event
