"""Bug: copy-on-write on `on` only: emit iterates the stored list without copying, but off deletes from that same list in place.

Breaks rule 7: "an emit works on a snapshot of the listeners taken when it starts. A
listener that calls on or off while the emit runs changes the next emit, not this one
(a listener removed meanwhile still runs in this emit; one added meanwhile does not)."
on always stores a new sorted list, so additions never reach a running emit; but off
deletes from the current list object, which a running emit may be iterating: when no
on happened earlier in that emit, a listener removed meanwhile does not run (and the
one after a removed earlier listener is skipped).
"""

from __future__ import annotations

import bisect
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

# (-priority, registration number, handler): sorts highest priority first, ties by number
_Entry = tuple[int, int, Callable[..., Any]]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit``; each event keeps a list sorted by priority."""

    def __init__(self) -> None:
        self._lists: dict[str, list[_Entry]] = {}
        self._numbers = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        # build a new list: an emit that is iterating the old one is not disturbed
        entries = list(self._lists.get(event, ()))
        bisect.insort(entries, (-int(priority), next(self._numbers), handler))
        self._lists[event] = entries
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._lists.get(event)
        if entries is None:
            return
        for index in reversed(range(len(entries))):
            if entries[index][2] == handler:
                del entries[index]
        if not entries:
            del self._lists[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for _, _, handler in self._lists.get(event, ()):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
