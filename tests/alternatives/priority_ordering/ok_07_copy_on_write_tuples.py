"""Style: copy-on-write. Each event maps to an immutable, already ordered tuple of (sort key, handler); on and off build a new tuple and replace the old one, so emit gets its snapshot by simply holding the current tuple.

Why it is correct: the sort key is (minus int(priority), global registration number), so a
bigger number runs first, any spelling of a number is the same priority, any int works,
and ties keep registration order; a registration after off gets a fresh, larger number and
so goes behind the listeners of its priority. bisect places the new entry at its sorted
position. on returns the handler unchanged. off keeps only the entries whose handler is not
== the given one, on that event only, and does nothing for unknown events or handlers.
emit reads the tuple once when it starts: on and off during the emit replace the tuple in
the dict but cannot change the one being walked, which is exactly the snapshot rule, and a
nested emit reads the then-current tuple. Listeners run one at a time with exactly the
given arguments; whatever they return that inspect.isawaitable accepts is awaited before
the next. Exceptions are not caught, so the listener's own exception leaves at once and
nothing needs cleaning up. emit returns None.
"""

from __future__ import annotations

import bisect
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

_Entry = tuple[tuple[int, int], Callable[..., Any]]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` over immutable per-event tuples."""

    def __init__(self) -> None:
        self._table: dict[str, tuple[_Entry, ...]] = {}
        self._numbers = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        key = (-int(priority), next(self._numbers))
        entries = list(self._table.get(event, ()))
        position = bisect.bisect_right([k for k, _ in entries], key)
        entries.insert(position, (key, handler))
        self._table[event] = tuple(entries)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        current = self._table.get(event)
        if current is None:
            return
        remaining = tuple(entry for entry in current if not entry[1] == handler)
        if remaining:
            self._table[event] = remaining
        else:
            del self._table[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for _key, handler in self._table.get(event, ()):
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
