"""Bug: priority buckets are looked up with `is`, so 2 and EventPriority.MEDIUM land in two separate buckets.

Breaks: "A priority is its number, however it is spelled: `2`, `EventPriority.MEDIUM`,
`EventPriority.NORMAL` and the default are one priority, so their listeners tie (rule 2)."
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Per event: a list of [priority, handlers] buckets, highest priority first."""

    def __init__(self) -> None:
        self._events: dict[str, list[list[Any]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        buckets = self._events.setdefault(event, [])
        for bucket in buckets:
            if bucket[0] is priority:  # same level: join its bucket
                bucket[1].append(handler)
                return handler
        buckets.append([priority, [handler]])
        # stable sort: buckets of equal priority keep their creation order
        buckets.sort(key=lambda b: b[0], reverse=True)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        buckets = self._events.get(event)
        if not buckets:
            return
        kept = []
        for prio, handlers in buckets:
            remaining = [h for h in handlers if h != handler]
            if remaining:
                kept.append([prio, remaining])
        if kept:
            self._events[event] = kept
        else:
            del self._events[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        snapshot = [h for _, handlers in self._events.get(event, []) for h in handlers]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
