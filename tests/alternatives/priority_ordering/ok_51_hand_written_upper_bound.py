"""Style: each event keeps one list sorted by (-priority, registration number), with a hand-written binary search (an upper bound) for the insertion point and copy-on-write lists.

Follows: "a bigger priority runs earlier ... Any `int` is a priority too" (the key is `-int(priority)`: exact for any int, `Tier.TOP` is 9, `2`/`MEDIUM`/`NORMAL`/the default tie); "listeners of the same priority run in the order they were registered" (the registration number breaks ties; the upper bound puts a new one after its equals); "`emit` calls one listener at a time. If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited ... once" (call, then `await` once if `inspect.isawaitable`; no `iscoroutine`, no loop over generators); "each listener gets exactly the positional and keyword arguments given to `emit`" (`handler(*args, **kwargs)`); "`off(event, handler)` removes all of its registrations ... compares handlers with `==`" (filter with `==`, nothing else, nothing unwrapped; unknown events are ignored); "an emit works on a **snapshot** of the listeners taken when it starts" (`on`/`off` build new lists, the emit holds the old one, taken before its first `await`); "its exception comes out of `emit` at once" and cancellation "lets the `CancelledError` out" (no `try` at all: a plain `await` also cancels what it awaits); "`await emit(...)` returns `None`"; "keep the state in the object" (everything lives on `self`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

_Row = tuple[int, int, Callable[..., Any]]  # (-priority, registration number, handler)


def _upper_bound(rows: list[_Row], rank: int, number: int) -> int:
    """The first index whose (rank, number) is greater than the given one."""
    lo, hi = 0, len(rows)
    while lo < hi:
        mid = (lo + hi) // 2
        if (rows[mid][0], rows[mid][1]) <= (rank, number):
            lo = mid + 1
        else:
            hi = mid
    return lo


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._rows: dict[str, list[_Row]] = {}
        self._registered = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._registered += 1
        rank = -int(priority)
        rows = list(self._rows.get(event, ()))  # copy on write: a running emit keeps its list
        rows.insert(_upper_bound(rows, rank, self._registered), (rank, self._registered, handler))
        self._rows[event] = rows
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        rows = self._rows.get(event)
        if rows is None:
            return
        kept = [row for row in rows if not row[2] == handler]
        if kept:
            self._rows[event] = kept
        else:
            del self._rows[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = self._rows.get(event, [])  # never mutated: on/off replace the list
        for _, _, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
