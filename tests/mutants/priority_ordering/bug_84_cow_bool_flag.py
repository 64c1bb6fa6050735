"""Bug: copy-on-write guarded by a True/False emitting flag instead of a depth count; an inner emit clears the flag, so on/off later in the outer emit mutate the very list the outer emit is iterating.

Breaks: "an emit works on a **snapshot** of the listeners taken when it starts. A listener that calls `on` or `off` while the emit runs changes the *next* emit, not this one" (also after an inner emit, rule 11).
"""

from __future__ import annotations

import bisect
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Per event a list kept sorted by (minus priority, serial).

    Outside an emit, on/off edit the list in place (cheap). During an emit the
    list is replaced by an edited copy, so the emit keeps iterating the old one.
    """

    def __init__(self) -> None:
        self._lists: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._serial = 0
        self._emitting = False

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._serial += 1
        item = (-int(priority), self._serial, handler)
        current = self._lists.get(event, [])
        target = list(current) if self._emitting else current
        bisect.insort(target, item, key=lambda it: it[:2])
        self._lists[event] = target
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        current = self._lists.get(event)
        if current is None:
            return
        if self._emitting:
            self._lists[event] = [it for it in current if it[2] != handler]
        else:
            current[:] = [it for it in current if it[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        listeners = self._lists.get(event, [])
        self._emitting = True
        try:
            for _, _, handler in listeners:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            self._emitting = False
