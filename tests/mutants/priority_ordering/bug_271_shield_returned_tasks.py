"""Exercise 1: priority_ordering. Priority emitter that does not cancel foreign Tasks.

BUG (planted): rule 8 says "What it was awaiting is cancelled with it, as `await`
does: a Task a listener returned does not go on running once the emit was
cancelled." This version awaits a returned Task/Future through ``asyncio.shield``
("the listener scheduled that Task itself, we don't own it, so a timeout around
emit must not kill it"), so after ``wait_for`` runs out the Task keeps running.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

from day25 import EventPriority


class Registration(NamedTuple):
    priority: int
    sequence: int
    handler: Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._by_event: dict[str, list[Registration]] = {}
        self._next_sequence = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._next_sequence += 1
        regs = self._by_event.setdefault(event, [])
        regs.append(Registration(int(priority), self._next_sequence, handler))
        regs.sort(key=lambda r: (-r.priority, r.sequence))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        regs = self._by_event.get(event)
        if regs:
            self._by_event[event] = [r for r in regs if not r.handler == handler]

    @staticmethod
    async def _wait_for_result(result: Any) -> None:
        if isinstance(result, asyncio.Future):
            # A Task/Future the listener scheduled itself is not ours to cancel:
            # wait for it, but let it finish even if this emit is cancelled.
            await asyncio.shield(result)
        else:
            await result

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for reg in tuple(self._by_event.get(event, ())):
            result = reg.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await self._wait_for_result(result)
