"""Exercise 1: priority_ordering.

Buckets: per event a dict from priority (a plain int, so ``2``, ``MEDIUM``,
``NORMAL`` and an IntEnum member of value 2 share one bucket) to the list of its
handlers in registration order. A new registration is appended to its bucket,
so it runs after the ones already there; ``off`` filters every bucket with
``==`` and drops empty ones. ``emit`` flattens the buckets, biggest priority
first, into a fresh list at once (its snapshot), then calls the handlers one by
one through a module-level runner that awaits an awaitable result exactly once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

Buckets = dict[int, list[Callable[..., Any]]]


async def _run_each(listeners: list[Callable[..., Any]], args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> None:
    for listener in listeners:
        value = listener(*args, **kwargs)
        if inspect.isawaitable(value):
            await value


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._events: dict[str, Buckets] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        buckets = self._events.setdefault(event, {})
        buckets.setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        buckets = self._events.get(event)
        if not buckets:
            return
        remaining: Buckets = {}
        for level, handlers in buckets.items():
            kept = [h for h in handlers if not (h == handler)]
            if kept:
                remaining[level] = kept
        if remaining:
            self._events[event] = remaining
        else:
            self._events.pop(event, None)

    def _ordered(self, event: str) -> list[Callable[..., Any]]:
        buckets = self._events.get(event, {})
        return [h for level in sorted(buckets, reverse=True) for h in buckets[level]]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        await _run_each(self._ordered(event), args, kwargs)
