"""Bug: listener tables live in a module-level dict keyed by id(self); a new emitter at a recycled address inherits the old one's listeners.

Breaks: "So are emitters: a new PriorityEmitter holds nothing of another one's, even one created where an old one was (keep the state in the object, not in the module)."
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

# One table per emitter, found by the emitter's id: {event: {priority: [handlers]}}
_TABLES: dict[int, dict[str, dict[int, list[Callable[..., Any]]]]] = {}


class PriorityEmitter:
    """on / off / await emit, with per-priority buckets."""

    def __init__(self) -> None:
        self._key = id(self)
        _TABLES.setdefault(self._key, {})

    @property
    def _events(self) -> dict[str, dict[int, list[Callable[..., Any]]]]:
        return _TABLES.setdefault(self._key, {})

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        buckets = self._events.setdefault(event, {})
        buckets.setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        buckets = self._events.get(event)
        if not buckets:
            return
        for prio in list(buckets):
            kept = [h for h in buckets[prio] if not (h == handler)]
            if kept:
                buckets[prio] = kept
            else:
                del buckets[prio]
        if not buckets:
            del self._events[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        buckets = self._events.get(event, {})
        snapshot = [h for prio in sorted(buckets, reverse=True) for h in list(buckets[prio])]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
