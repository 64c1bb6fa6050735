"""Breaks: "The emitter stays usable: the next emit runs every listener again" (and "the
snapshot is taken at once, before the emit first waits for anything").
Instead a Task cancelled with an emit is kept and awaited at the start of the next emit.
Shows after an emit is cancelled while awaiting a Task or Future a listener returned: the
next emit (of any event) awaits that cancelled Task, raises CancelledError, runs nobody.
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
        self._unfinished: list[asyncio.Future[Any]] = []  # cancelled, to wait for later
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
        while self._unfinished:  # let what an earlier emit cancelled wind down first
            await self._unfinished.pop()
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
                self._unfinished.append(result)  # cannot wait for it while cancelled
            raise
