"""Breaks: "Two emits may also run at the same time ...: each calls every listener of its own
snapshot"; only "What it was awaiting is cancelled with it".
Instead, when an awaited listener fails, it cancels every task in self._running: all emits'.
Shows when one emit's async listener raises (or it times out) while another emit waits for
its own listener: that listener is cancelled, and the other emit raises CancelledError.
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
        self._running: set[asyncio.Future[Any]] = set()  # strong references, as asyncio asks
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
        task = asyncio.ensure_future(result)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        try:
            await task
        except BaseException:
            # the emit stops here: stop what is still running too
            for running in list(self._running):
                running.cancel()
            raise
