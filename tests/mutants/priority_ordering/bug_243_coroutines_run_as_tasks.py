"""
Breaks: "its exception comes out of `emit` at once ... It is the listener's own exception"
(rule 8), the returned coroutine being awaited "as `await` does" (rule 8).
Instead each coroutine a listener returns is wrapped in `asyncio.create_task` and the task awaited.
Shows for a caller whose async listener raises SystemExit or KeyboardInterrupt (a "quit"
listener calling sys.exit()): a Task re-raises those out of the event loop itself, so they
never come out of `await emitter.emit(...)` and the caller's `except SystemExit` never runs.
"""

from __future__ import annotations

import asyncio
import bisect
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class _Registration:
    """One ``on``: where it ranks (bigger priority first, then earlier number) and what it calls."""

    __slots__ = ("handler", "rank")

    def __init__(self, priority: int, number: int, handler: Callable[..., Any]) -> None:
        self.rank = (-int(priority), number)
        self.handler = handler


def _rank(registration: _Registration) -> tuple[int, int]:
    return registration.rank


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._by_event: dict[str, list[_Registration]] = {}
        self._numbers = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        registrations = list(self._by_event.get(event, ()))  # a new list: emits keep theirs
        bisect.insort(registrations, _Registration(priority, next(self._numbers), handler),
                      key=_rank)
        self._by_event[event] = registrations
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        registrations = self._by_event.get(event)
        if registrations is None:
            return
        kept = [r for r in registrations if not r.handler == handler]
        if kept:
            self._by_event[event] = kept
        else:
            del self._by_event[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for registration in self._by_event.get(event, ()):  # this list is never edited
            outcome = registration.handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                if asyncio.iscoroutine(outcome):
                    outcome = asyncio.create_task(outcome)  # runs it on its own, we wait for it
                await outcome
