"""Exercise 1: priority_ordering.

Listeners live in buckets: per event, a dict from the priority number to the list of
handlers registered at it, in registration order (a handler registered twice is in its
bucket twice). emit flattens the buckets, biggest number first, into one fresh list before
it waits for anything, then walks that list; awaiting is done by a tiny helper that awaits
a value only when inspect.isawaitable says it can be awaited. off filters every bucket with
==, dropping buckets and events that become empty.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


async def _settle(value: Any) -> None:
    """Await ``value`` once if it is awaitable; anything else is just a return value."""
    if inspect.isawaitable(value):
        await value


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._events: dict[str, dict[int, list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        buckets = self._events.setdefault(event, defaultdict(list))
        buckets[int(priority)].append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        buckets = self._events.get(event)
        if buckets is None:
            return
        for level in list(buckets):
            kept = [h for h in buckets[level] if not (h == handler)]
            if kept:
                buckets[level] = kept
            else:
                del buckets[level]
        if not buckets:
            del self._events[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        buckets = self._events.get(event, {})
        queue = [h for level in sorted(buckets, reverse=True) for h in buckets[level]]
        for handler in queue:
            await _settle(handler(*args, **kwargs))
