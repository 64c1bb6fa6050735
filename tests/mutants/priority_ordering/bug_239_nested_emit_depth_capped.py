"""Breaks: "a listener may `await emitter.emit(...)`, of another event or of the same one. That
inner emit is an emit like any other ... and runs to its end before the outer emit goes on."
Instead emits in progress are counted and the 11th one raises RuntimeError ("listener loop?").
Shows for a caller whose events chain deeper than ten (a pipeline of events that each emit
the next), or that runs more than ten emits of one emitter at once with asyncio.gather.
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


#: emits in progress at once; more means a listener loop
_MAX_DEPTH = 10


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._by_event: dict[str, list[_Registration]] = {}
        self._numbers = itertools.count()
        self._depth = 0

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
        if self._depth >= _MAX_DEPTH:
            raise RuntimeError(f"emit({event!r}) nested more than {_MAX_DEPTH} deep: a listener loop?")
        self._depth += 1
        try:
            for registration in self._by_event.get(event, ()):  # this list is never edited
                outcome = registration.handler(*args, **kwargs)
                if inspect.isawaitable(outcome):
                    await outcome
        finally:
            self._depth -= 1
