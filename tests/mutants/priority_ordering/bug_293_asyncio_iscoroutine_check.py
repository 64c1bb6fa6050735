"""Exercise 1: priority_ordering. Buckets {priority: [handlers]} per event, flattened at emit.

BUG (planted): "A plain generator (what a function with `yield` returns, without
`@types.coroutine`) is not awaitable: it is a value too, though `asyncio.iscoroutine` says yes
to it on Python 3.11." The tidy-up replaced a hand-written awaitable test (the 0x100 code
flag of generator-based coroutines) with `isinstance(r, Awaitable) or asyncio.iscoroutine(r)`
("asyncio already knows generator-based coroutines, no magic number"). On 3.11 that says yes to
every plain generator, so a listener that returns one makes `emit` await it: `TypeError`, and
the listeners after it never run.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from day25 import EventPriority


def _needs_await(result: Any) -> bool:
    return isinstance(result, Awaitable) or asyncio.iscoroutine(result)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._buckets: dict[str, defaultdict[int, list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._buckets.setdefault(event, defaultdict(list))[int(priority)].append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        buckets = self._buckets.get(event)
        if buckets is None:
            return
        for priority, handlers in list(buckets.items()):
            buckets[priority] = [h for h in handlers if not h == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        buckets = self._buckets.get(event, {})
        snapshot = [h for priority in sorted(buckets, reverse=True) for h in buckets[priority]]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if _needs_await(result):
                await result
