"""Style: sorted registration records (bisect.insort) and a deque drained by a helper."""

from __future__ import annotations

import asyncio
import bisect
import inspect
import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority


@dataclass(frozen=True, eq=False)
class _Registration:
    priority: int
    number: int
    handler: Callable[..., Any]


def _order(registration: _Registration) -> tuple[int, int]:
    return (-registration.priority, registration.number)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._numbers = itertools.count()
        self._registrations: dict[str, list[_Registration]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        record = _Registration(int(priority), next(self._numbers), handler)
        bisect.insort(self._registrations.setdefault(event, []), record, key=_order)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        records = self._registrations.get(event)
        if records is None:
            return
        self._registrations[event] = [r for r in records if r.handler != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        pending = deque(self._registrations.get(event, ()))  # the snapshot
        while pending:
            record = pending.popleft()
            await self._call(record.handler, args, kwargs)

    async def _call(self, handler: Callable[..., Any], args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> None:
        result = handler(*args, **kwargs)
        if not inspect.isawaitable(result):
            return
        try:
            await result
        except asyncio.CancelledError:
            # awaiting a Task or Future already cancels it; this only makes sure
            if isinstance(result, asyncio.Future):
                result.cancel()
            raise
