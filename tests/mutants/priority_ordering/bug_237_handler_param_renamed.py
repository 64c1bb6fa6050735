"""Breaks: "`on(event, handler, priority=EventPriority.MEDIUM)` registers `handler` and returns
it unchanged" (and `off(event, handler)`): the parameter is named `handler`.
Instead the parameter is named `callback` in `on` and `off`, so it can only be given by position.
Shows for a caller that names it: `emitter.on("save", handler=store)` or
`emitter.off(event="save", handler=store)` raises TypeError instead of registering/removing.
"""

from __future__ import annotations

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
        callback: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``callback`` on every ``event``; return ``callback``."""
        registrations = list(self._by_event.get(event, ()))  # a new list: emits keep theirs
        bisect.insort(registrations, _Registration(priority, next(self._numbers), callback),
                      key=_rank)
        self._by_event[event] = registrations
        return callback

    def off(self, event: str, callback: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        registrations = self._by_event.get(event)
        if registrations is None:
            return
        kept = [r for r in registrations if not r.handler == callback]
        if kept:
            self._by_event[event] = kept
        else:
            del self._by_event[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for registration in self._by_event.get(event, ()):  # this list is never edited
            outcome = registration.handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
