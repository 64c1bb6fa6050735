"""Correct: copy-on-write buckets. Per event a dict from int priority to an immutable tuple of handlers.

Why correct: priorities are normalised with int(), so 2, MEDIUM, NORMAL and the default share
one bucket; a tuple keeps registration order and on appends at its back; off rebuilds the
tuples without the handler (compared with ==) and drops empty ones, so nothing of the handler
is left; emit flattens the buckets, highest priority first, into a list at its start (the
snapshot; on and off never mutate a tuple an emit could see), calls one listener at a time,
awaits whatever is awaitable, lets exceptions out unchanged and returns None.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

Handler = Callable[..., Any]


class PriorityEmitter:
    def __init__(self) -> None:
        self._buckets: dict[Any, dict[int, tuple[Handler, ...]]] = {}

    def on(self, event: str, handler: Handler, priority: int = EventPriority.MEDIUM) -> Handler:
        levels = self._buckets.setdefault(event, {})
        level = int(priority)
        levels[level] = levels.get(level, ()) + (handler,)
        return handler

    def off(self, event: str, handler: Handler) -> None:
        levels = self._buckets.get(event)
        if levels is None:
            return
        new_levels = {}
        for level, handlers in levels.items():
            kept = tuple(h for h in handlers if h != handler)
            if kept:
                new_levels[level] = kept
        if new_levels:
            self._buckets[event] = new_levels
        else:
            del self._buckets[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        levels = self._buckets.get(event, {})
        snapshot = [h for level in sorted(levels, reverse=True) for h in levels[level]]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
