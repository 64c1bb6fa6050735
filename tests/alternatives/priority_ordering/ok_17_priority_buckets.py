"""Style: per-event buckets keyed by the priority number, each bucket a list in registration order.

Correct because: the bucket key is int(priority), so 2, MEDIUM, NORMAL and the
default share one bucket (they tie); emit walks the bucket keys from the biggest
number down and each bucket front to back (registration order); emit first
copies every bucket into one flat list (the snapshot), calls one listener at a
time, awaits whatever is awaitable (inspect.isawaitable), lets any exception out
unchanged, and returns None. off rebuilds each bucket without the entries equal
(==) to the handler, so a later on lands at the back of its bucket.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """on / off / await emit with integer priorities."""

    def __init__(self) -> None:
        self._buckets: dict[str, dict[int, list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        buckets = self._buckets.setdefault(event, {})
        buckets.setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        buckets = self._buckets.get(event)
        if not buckets:
            return
        for prio in list(buckets):
            kept = [h for h in buckets[prio] if not (h == handler)]
            if kept:
                buckets[prio] = kept
            else:
                del buckets[prio]
        if not buckets:
            del self._buckets[event]

    def _snapshot(self, event: str) -> list[Callable[..., Any]]:
        buckets = self._buckets.get(event, {})
        ordered: list[Callable[..., Any]] = []
        for prio in sorted(buckets, reverse=True):
            ordered.extend(buckets[prio])
        return ordered

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for handler in self._snapshot(event):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
