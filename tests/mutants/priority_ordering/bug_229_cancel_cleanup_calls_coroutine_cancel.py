"""Breaks: "A cancellation comes out the same way: an emit cancelled while it waits for a
listener (an asyncio.wait_for around it that runs out) lets the CancelledError out".
Instead the cleanup calls result.cancel() on whatever was being awaited, as if it were a Task.
Shows when the emit is cancelled while awaiting a coroutine (an async def listener) or an
object with __await__: AttributeError ('coroutine' object has no attribute 'cancel') comes
out instead of the CancelledError (wait_for's caller gets it instead of TimeoutError).
"""

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
            # stop what the listener started before letting the cancellation out
            result.cancel()
            raise
