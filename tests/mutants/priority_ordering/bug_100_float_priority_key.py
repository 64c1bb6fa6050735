"""Bug: the sort key converts the priority to float (to allow fractional priorities), so large ints lose precision and can tie or overflow.

Breaks: "Any int is a priority too (EventPriority is an IntEnum)" and "a bigger priority runs earlier".
"""

from __future__ import annotations

import bisect
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Per event a list kept sorted with bisect on the key (negative priority, sequence)."""

    def __init__(self) -> None:
        self._keys: dict[Any, list[tuple[float, int]]] = {}
        self._handlers: dict[Any, list[Callable[..., Any]]] = {}
        self._seq = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._seq += 1
        key = (-float(priority), self._seq)
        keys = self._keys.setdefault(event, [])
        handlers = self._handlers.setdefault(event, [])
        index = bisect.bisect_right(keys, key)
        keys.insert(index, key)
        handlers.insert(index, handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        if event not in self._handlers:
            return
        pairs = [(k, h) for k, h in zip(self._keys[event], self._handlers[event]) if h != handler]
        self._keys[event] = [k for k, _ in pairs]
        self._handlers[event] = [h for _, h in pairs]

    async def emit(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        for handler in list(self._handlers.get(event, ())):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
