"""Bug: off(event, handler) also removes the function that ``handler`` wraps (its ``__wrapped__`` chain), so removing a functools.wraps wrapper removes the original handler too.

Breaks: "`off(event, handler)` removes all of its registrations on that event, and no other handler (not even one made from it with `functools.wraps`, whose `__wrapped__` is `handler`)." (read as protecting only the wrapper when the original is removed) ... "no other handler" holds both ways. With on("e", h) and on("e", w) where w = functools.wraps(h)(lambda *a: ...), off("e", w) must leave h; here h is removed as well and the next emit calls nobody.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any, NamedTuple

from day25 import EventPriority


class _Entry(NamedTuple):
    event: str
    rank: int
    order: int
    handler: Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._log: tuple[_Entry, ...] = ()   # every live registration, all events
        self._order = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._log = (*self._log, _Entry(event, int(priority), next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        # The handler given, and what it stands for if it is a wrapper
        # (a once-wrapper or a decorator made with functools.wraps).
        targets = [handler]
        seen = {id(handler)}
        while hasattr(targets[-1], "__wrapped__") and id(targets[-1].__wrapped__) not in seen:
            targets.append(targets[-1].__wrapped__)
            seen.add(id(targets[-1]))
        self._log = tuple(
            entry for entry in self._log
            if not (entry.event == event and any(entry.handler == t for t in targets))
        )

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        mine = [e for e in self._log if e.event == event]
        mine.sort(key=lambda e: (-e.rank, e.order))
        for entry in mine:
            returned = entry.handler(*args, **kwargs)
            if inspect.isawaitable(returned):
                await returned
